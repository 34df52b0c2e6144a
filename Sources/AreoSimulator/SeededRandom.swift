import AreoGeometry
/// A small, fast, deterministic generator (SplitMix64): the same seed gives the same mission on
/// every machine and Swift version (the standard library's generator is not specified).
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    private var spare: Double? = nil

    public init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Standard normal (Box–Muller; the pair's second value is kept for the next call).
    public mutating func gaussian() -> Double {
        if let value = spare {
            spare = nil
            return value
        }
        let u = max(unit(), 1e-300), v = unit()
        let radius = (-2 * log(u)).squareRoot(), angle = 2 * .pi * v
        spare = radius * sin(angle)
        return radius * cos(angle)
    }
}

/// A stateless hash of integers to [0, 1): the truth planet's noise lattice.
@inline(__always) func latticeHash(_ x: Int64, _ y: Int64, _ z: Int64, _ seed: UInt64) -> Double {
    var h = seed ^ (UInt64(bitPattern: x) &* 0x9E37_79B9_7F4A_7C15)
    h ^= UInt64(bitPattern: y) &* 0xC2B2_AE3D_27D4_EB4F
    h ^= UInt64(bitPattern: z) &* 0x1656_67B1_9E37_79F9
    h = (h ^ (h >> 29)) &* 0xBF58_476D_1CE4_E5B9
    h ^= h >> 32
    return Double(h >> 11) * 0x1.0p-53
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A spot in some cells of a lattice `cell` km apart (craters of albedo and of relief): for the
/// cell holding `p`, nil when it has none (a hash above `occupancy`), else `p`'s distance from the
/// spot's centre in units of its radius. The centre lies `margin` from the cell's faces, the radius
/// is `radius.base + radius.span·u` cells (u a hash in [0, 1)).
@inline(__always) func cellSpotDistance(
    _ p: Vector3, cell: Double, seed s: UInt64, occupancy: Double, margin: Double, span: Double, radius: (base: Double, span: Double)
) -> Double? {
    let q = p / cell
    let ix = Int64(floor(q.x)), iy = Int64(floor(q.y)), iz = Int64(floor(q.z))
    guard latticeHash(ix, iy, iz, s) < occupancy else { return nil }
    let centre = Vector3(
        Double(ix) + margin + span * latticeHash(ix, iy, iz, s ^ 1), Double(iy) + margin + span * latticeHash(ix, iy, iz, s ^ 2),
        Double(iz) + margin + span * latticeHash(ix, iy, iz, s ^ 3))
    return (q - centre).length / (radius.base + radius.span * latticeHash(ix, iy, iz, s ^ 4))
}
