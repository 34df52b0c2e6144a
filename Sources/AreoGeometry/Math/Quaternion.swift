#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A unit quaternion, scalar first, Hamilton convention (ICD §7): it rotates a vector `v` to
/// `q·v·q*`.
public struct Quaternion: Sendable, Equatable {
    public var w: Double
    public var x: Double
    public var y: Double
    public var z: Double

    public init(w: Double, x: Double, y: Double, z: Double) {
        (self.w, self.x, self.y, self.z) = (w, x, y, z)
    }

    /// From the kernel's `[w, x, y, z]`.
    public init(_ array: [Double]) { self.init(w: array[0], x: array[1], y: array[2], z: array[3]) }

    /// The rotation by `angle` radians about the unit vector `axis`.
    public init(axis: Vector3, angle: Double) {
        let s = sin(angle / 2)
        self.init(w: cos(angle / 2), x: axis.x * s, y: axis.y * s, z: axis.z * s)
    }

    public var vector: Vector3 { Vector3(x, y, z) }
    public var conjugate: Quaternion { Quaternion(w: w, x: -x, y: -y, z: -z) }
    public var norm: Double { (w * w + x * x + y * y + z * z).squareRoot() }
    public var normalized: Quaternion { let n = norm; return Quaternion(w: w / n, x: x / n, y: y / n, z: z / n) }

    /// The Hamilton product `a·b` (apply `b` first, then `a`).
    public static func * (a: Quaternion, b: Quaternion) -> Quaternion {
        Quaternion(
            w: a.w * b.w - a.x * b.x - a.y * b.y - a.z * b.z,
            x: a.w * b.x + a.x * b.w + a.y * b.z - a.z * b.y,
            y: a.w * b.y - a.x * b.z + a.y * b.w + a.z * b.x,
            z: a.w * b.z + a.x * b.y - a.y * b.x + a.z * b.w)
    }

    /// Rotates `v`: `q·v·q*` (for a unit quaternion).
    @inlinable public func rotate(_ v: Vector3) -> Vector3 {
        // v + 2w(u×v) + 2u×(u×v), u the vector part: the expanded product.
        let u = Vector3(x, y, z)
        let t = 2 * u.cross(v)
        return v + w * t + u.cross(t)
    }

    /// Spherical linear interpolation from `a` (f = 0) to `b` (f = 1) along the shorter arc.
    public static func slerp(_ a: Quaternion, _ b: Quaternion, _ f: Double) -> Quaternion {
        var b = b
        var cosine = a.w * b.w + a.x * b.x + a.y * b.y + a.z * b.z
        if cosine < 0 {  // q and −q are the same rotation: take the short way round
            b = Quaternion(w: -b.w, x: -b.x, y: -b.y, z: -b.z)
            cosine = -cosine
        }
        let (ka, kb): (Double, Double)
        if cosine > 0.999_999_999 {
            (ka, kb) = (1 - f, f)  // nearly equal: linear, then normalised
        } else {
            let theta = acos(cosine), s = sin(theta)
            (ka, kb) = (sin((1 - f) * theta) / s, sin(f * theta) / s)
        }
        return Quaternion(w: ka * a.w + kb * b.w, x: ka * a.x + kb * b.x, y: ka * a.y + kb * b.y, z: ka * a.z + kb * b.z).normalized
    }
}
