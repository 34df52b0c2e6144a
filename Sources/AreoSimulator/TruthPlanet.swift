import AreoGeometry
import AreoTelemetry

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The simulated planet's albedo: deterministic, non-periodic and multi-scale, per band —
/// colour units (bright dust, dark basalt, a clay-rich unit) from a broad noise field, texture
/// from value noise down to a few metres (octaves four times apart), and crater-like spots (dark
/// floors, bright rims) at two sizes. Defined on the body-fixed surface point (km), so it has no
/// seams at the antimeridian or the poles. Octaves keep 85 % of the amplitude of the one above, so
/// there is texture down to three ground samples (what registration measures need). I/F = albedo · max(cos i, 0) (ICD §9, Lambert).
public struct TruthPlanet: Sendable {
    public let seed: UInt64
    /// The shortest texture wavelength, km (about two samples of the finest instrument).
    public let finestWavelength: Double

    /// Per unit, the albedo in PAN, RED, NIR, BLU.
    static let units: [[Double]] = [
        [0.30, 0.36, 0.41, 0.12],  // bright dust
        [0.13, 0.14, 0.15, 0.085],  // dark basalt
        [0.22, 0.23, 0.31, 0.14],  // clay-rich, bluish-NIR
    ]

    public init(seed: UInt64, finestWavelength: Double = 0.009) {
        self.seed = seed
        self.finestWavelength = finestWavelength
    }

    /// Smoothed value noise in [0, 1) on a lattice of spacing `wavelength` (km).
    @inline(__always) func noise(_ p: Vector3, _ wavelength: Double, _ salt: UInt64) -> Double {
        let q = p / wavelength
        let fx = floor(q.x), fy = floor(q.y), fz = floor(q.z)
        let ix = Int64(fx), iy = Int64(fy), iz = Int64(fz)
        func fade(_ t: Double) -> Double { t * t * (3 - 2 * t) }
        let tx = fade(q.x - fx), ty = fade(q.y - fy), tz = fade(q.z - fz)
        let s = seed ^ salt
        let c000 = latticeHash(ix, iy, iz, s), c100 = latticeHash(ix + 1, iy, iz, s)
        let c010 = latticeHash(ix, iy + 1, iz, s), c110 = latticeHash(ix + 1, iy + 1, iz, s)
        let c001 = latticeHash(ix, iy, iz + 1, s), c101 = latticeHash(ix + 1, iy, iz + 1, s)
        let c011 = latticeHash(ix, iy + 1, iz + 1, s), c111 = latticeHash(ix + 1, iy + 1, iz + 1, s)
        let x00 = c000 + (c100 - c000) * tx, x10 = c010 + (c110 - c010) * tx
        let x01 = c001 + (c101 - c001) * tx, x11 = c011 + (c111 - c011) * tx
        let y0 = x00 + (x10 - x00) * ty, y1 = x01 + (x11 - x01) * ty
        return y0 + (y1 - y0) * tz
    }

    @inline(__always) func smoothstep(_ a: Double, _ b: Double, _ x: Double) -> Double {
        let t = min(max((x - a) / (b - a), 0), 1)
        return t * t * (3 - 2 * t)
    }

    /// A crater-like spot factor (1 outside): cells of `cell` km, one spot in some of them.
    @inline(__always) func craters(_ p: Vector3, cell: Double, salt: UInt64) -> Double {
        guard let d = cellSpotDistance(p, cell: cell, seed: seed ^ salt, occupancy: 0.45, margin: 0.25, span: 0.5, radius: (0.08, 0.17)) else { return 1 }
        if d < 0.75 { return 0.72 }
        if d < 1.0 { return 1.0 + 0.28 * sin((d - 0.75) / 0.25 * .pi) }
        return 1
    }

    /// The albedo of `band` at body-fixed surface point `p` (km).
    public func albedo(_ p: Vector3, band: Band) -> Double {
        let coarse = coarseComponents(p, band: band, threshold: .infinity)
        return combine(coarse, fineComponents(p, threshold: .infinity))
    }

    /// The smooth part of the albedo: the colour-unit base and the texture octaves of
    /// wavelength ≥ `threshold` km. Smooth enough to interpolate between nodes spaced a twentieth
    /// of `threshold` apart (the simulator does, to save time; see docs/simulator.md).
    public func coarseComponents(_ p: Vector3, band: Band, threshold: Double) -> (base: Double, detail: Double) {
        let b = Int(band.rawValue)
        // Colour units: dark ↔ bright from one broad field, a clay-rich unit from another.
        let u = 0.6 * noise(p, 400, 11) + 0.3 * noise(p, 100, 12) + 0.1 * noise(p, 25, 13)
        let v = 0.7 * noise(p, 250, 14) + 0.3 * noise(p, 60, 15)
        let bright = smoothstep(0.38, 0.62, u), clay = smoothstep(0.58, 0.72, v)
        let base = ((1 - bright) * Self.units[1][b] + bright * Self.units[0][b]) * (1 - clay) + clay * Self.units[2][b]
        var detail = 0.0, amplitude = 0.5, wavelength = 6.0, salt: UInt64 = 20
        while wavelength >= finestWavelength && wavelength >= threshold {
            detail += amplitude * (noise(p, wavelength, salt) - 0.5)
            (amplitude, wavelength, salt) = (amplitude * 0.85, wavelength / 4, salt + 1)
        }
        return (base, detail)
    }

    /// The rest: texture octaves shorter than `threshold` and the crater spots.
    public func fineComponents(_ p: Vector3, threshold: Double) -> (detail: Double, spots: Double) {
        // The same octaves as the coarse part continues (6 km, 1.5 km, … four times apart).
        var detail = 0.0, amplitude = 0.5, wavelength = 6.0, salt: UInt64 = 20
        while wavelength >= finestWavelength {
            if wavelength < threshold { detail += amplitude * (noise(p, wavelength, salt) - 0.5) }
            (amplitude, wavelength, salt) = (amplitude * 0.85, wavelength / 4, salt + 1)
        }
        return (detail, craters(p, cell: 3, salt: 40) * craters(p, cell: 0.25, salt: 41))
    }

    /// Albedo from its parts.
    @inline(__always) public func combine(_ coarse: (base: Double, detail: Double), _ fine: (detail: Double, spots: Double)) -> Double {
        max(0.01, coarse.base * (1 + 0.5 * (coarse.detail + fine.detail)) * fine.spots)
    }

    /// I/F under Lambert photometry, with the incidence on the ellipsoid.
    public func iof(_ p: Vector3, band: Band, sun: Vector3, ellipsoid: Ellipsoid = .mars) -> Double {
        let cosI = ellipsoid.normal(at: p).dot((sun - p).normalized)
        return albedo(p, band: band) * max(cosI, 0)
    }
}
