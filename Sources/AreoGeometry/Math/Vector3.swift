/// A 3-vector in kilometres (positions) or unitless (directions).
public typealias Vector3 = SIMD3<Double>

extension SIMD3 where Scalar == Double {
    /// The dot product.
    @inlinable public func dot(_ other: Self) -> Double { (self * other).sum() }

    /// The cross product.
    @inlinable public func cross(_ o: Self) -> Self {
        Self(y * o.z - z * o.y, z * o.x - x * o.z, x * o.y - y * o.x)
    }

    /// The Euclidean length.
    @inlinable public var length: Double { dot(self).squareRoot() }

    /// The unit vector in this direction.
    @inlinable public var normalized: Self { self / length }

    /// The angle to `other`, in radians, in [0, π].
    @inlinable public func angle(to other: Self) -> Double {
        // atan2 of |a×b| and a·b keeps its precision near 0 and π, where acos does not.
        atan2(cross(other).length, dot(other))
    }

    /// Builds a vector from a JSON array of three numbers.
    @inlinable public init(_ array: [Double]) { self.init(array[0], array[1], array[2]) }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
