import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The surface a detector ray meets (ICD §11): the shape models that apply, point by point (the
/// finest with data there, ties to the newest), and the ellipsoid of §7 where none does.
///
/// A ray is intersected by marching from where it enters the shell that holds all relief: each
/// step is half the ray's height above the terrain there (never less than a quarter of the finest
/// model's pixel), so a ray cannot step over terrain of slopes up to about 60° whatever its angle,
/// and steps are long high above the ground and short near it. The first step that ends below the
/// terrain brackets the surface, which is then found to 1 mm by regula falsi (the Illinois
/// variant: a few evaluations where the surface is smooth, never leaving the bracket). Where the ray leaves a model's data (its edge, a hole) the
/// surface there is the next applicable one, so edges are continuous where the models agree and
/// never a place a ray can slip through.
public struct Terrain: Sendable {
    public let models: [ShapeModel]
    public let ellipsoid: Ellipsoid
    /// Kilometres: the lowest and highest radius any model or the ellipsoid reaches, with a margin.
    public let shell: ClosedRange<Double>
    /// The shortest step, kilometres.
    public let minimumStep: Double

    /// - Parameter models: in any order; held finest first, ties newest first (the order in which
    ///   the first with data at a point is the one that applies there).
    public init(models: [ShapeModel], ellipsoid: Ellipsoid = .mars) {
        self.models = models.sorted { $0.resolution != $1.resolution ? $0.resolution < $1.resolution : $0.produced > $1.produced }
        self.ellipsoid = ellipsoid
        var low = ellipsoid.polarRadius, high = ellipsoid.equatorialRadius
        var finest = Double.infinity
        for model in models {
            low = min(low, model.radiusRange.lowerBound / 1000)
            high = max(high, model.radiusRange.upperBound / 1000)
            finest = min(finest, model.pixelHeight * .pi / 180 * ellipsoid.equatorialRadius)
        }
        shell = (low - 0.1)...(high + 0.1)
        minimumStep = finest.isFinite ? max(0.000_5, finest / 4) : 0.01
    }

    /// The surface radius (kilometres) above the direction of `p`, with the model that gives it
    /// (nil: the ellipsoid).
    public func surfaceRadius(at p: Vector3) -> (radius: Double, model: ShapeModel?) {
        let coordinates = PlanetocentricCoordinates(p)
        if let (model, radius) = applicable(latitude: coordinates.latitude, longitude: coordinates.longitude) {
            return (radius / 1000, model)
        }
        return (ellipsoid.surfacePoint(latitude: coordinates.latitude, longitude: coordinates.longitude).length, nil)
    }

    /// The model that applies at a point and its radius (metres), as ``ShapeModel/applicable(_:latitude:longitude:)``
    /// decides: the first of ``models`` with data there.
    @inline(__always) public func applicable(latitude: Double, longitude: Double) -> (model: ShapeModel, radius: Double)? {
        for model in models {
            if let radius = model.radius(latitude: latitude, longitude: longitude) { return (model, radius) }
        }
        return nil
    }

    /// The surface point above (`latitude`, `longitude`), body-fixed km: the applicable model's
    /// radius along the planetocentric direction, or the ellipsoid's point where none applies.
    public func surfacePoint(latitude: Double, longitude: Double) -> Vector3 {
        surfacePoint(latitude: latitude, longitude: longitude, direction: Ellipsoid.direction(latitude: latitude, longitude: longitude))
    }

    /// The same, given the unit planetocentric `direction` of (`latitude`, `longitude`) (its
    /// trigonometry done once by a caller that walks a grid).
    @inline(__always) public func surfacePoint(latitude: Double, longitude: Double, direction u: Vector3) -> Vector3 {
        guard let (_, radius) = applicable(latitude: latitude, longitude: longitude) else { return ellipsoid.surfacePoint(direction: u) }
        return radius / 1000 * u
    }

    /// The outward unit normal of the terrain at surface point `p` (ICD §11: `i` is measured on
    /// the terrain's local normal): the cross product of the surface's derivatives east and north,
    /// by central differences a hundredth of the applicable model's pixel wide (the bilinear
    /// surface's own slope there); the ellipsoid's normal where no model applies.
    public func normal(at p: Vector3) -> Vector3 {
        let c = PlanetocentricCoordinates(p)
        guard let (model, _) = applicable(latitude: c.latitude, longitude: c.longitude) else { return ellipsoid.normal(at: p) }
        let h = min(model.pixelWidth, model.pixelHeight) / 100
        let latitude = min(89.999, max(-89.999, c.latitude))
        let east = surfacePoint(latitude: latitude, longitude: c.longitude + h) - surfacePoint(latitude: latitude, longitude: c.longitude - h)
        let north = surfacePoint(latitude: latitude + h, longitude: c.longitude) - surfacePoint(latitude: latitude - h, longitude: c.longitude)
        let n = east.cross(north).normalized
        return n.length.isFinite && n.dot(p) > 0 ? n : ellipsoid.normal(at: p)
    }

    /// What the ray from `state`'s spacecraft along body-fixed `direction` sees on the terrain,
    /// with the illumination and viewing angles on the terrain's normal; nil when it misses.
    public func view(from state: Trajectory.State, direction: Vector3) -> SurfaceView? {
        guard !models.isEmpty else { return ellipsoid.view(from: state, direction: direction) }
        guard let (p, _) = intersect(origin: state.position, direction: direction) else { return nil }
        return ellipsoid.view(of: p, from: state, normal: normal(at: p))
    }

    /// Where the ray `origin + s·direction` first meets the terrain, and the model that holds the
    /// point (nil: the ellipsoid); nil when the ray misses.
    ///
    /// With `near` (a distance along the ray the surface is expected near, e.g. a neighbouring
    /// ray's), the march starts `margin` km before it when that point is above the terrain:
    /// the same answer unless the ray meets terrain before there.
    public func intersect(origin: Vector3, direction: Vector3, near: Double? = nil, margin: Double = 0.5) -> (point: Vector3, model: ShapeModel?)? {
        guard !models.isEmpty else { return ellipsoid.intersect(origin: origin, direction: direction).map { ($0, nil) } }
        let d = direction.normalized
        guard d.length.isFinite, origin.length.isFinite else { return nil }
        // Enter the shell: the ray's distances to the outer sphere.
        let b = origin.dot(d), c = origin.dot(origin) - shell.upperBound * shell.upperBound
        let discriminant = b * b - c
        guard discriminant >= 0 else { return nil }
        let root = discriminant.squareRoot()
        var s = max(0, -b - root)
        let exit = -b + root
        guard exit > 0 else { return nil }
        func height(_ s: Double) -> Double {
            let p = origin + s * d
            return p.length - surfaceRadius(at: p).radius
        }
        var h = height(s)
        guard h > 0 else { return (origin + s * d, surfaceRadius(at: origin + s * d).model) }  // starts inside the terrain
        if let near, near.isFinite, near - margin > s, near - margin < exit {
            let warm = height(near - margin)
            if warm > 0 { (s, h) = (near - margin, warm) }
        }
        for _ in 0..<100_000 {
            let step = max(minimumStep, 0.5 * h)
            let next = s + step
            guard next <= exit else { return nil }
            let hNext = height(next)
            if hNext <= 0 {
                // Regula falsi (Illinois) on [s, next]: h(s) > 0 ≥ h(next).
                var (low, hLow, high, hHigh) = (s, h, next, hNext)
                var side = 0
                for _ in 0..<60 where high - low > 1e-6 {
                    var mid = high - hHigh * (high - low) / (hHigh - hLow)
                    if !(mid > low && mid < high) { mid = (low + high) / 2 }
                    let hMid = height(mid)
                    if hMid > 0 {
                        (low, hLow) = (mid, hMid)
                        if side == 1 { hHigh /= 2 }
                        side = 1
                    } else {
                        (high, hHigh) = (mid, hMid)
                        if side == -1 { hLow /= 2 }
                        side = -1
                        if hMid > -1e-6 { break }  // within 1 mm below the surface
                    }
                }
                let p = origin + high * d
                return (p, surfaceRadius(at: p).model)
            }
            (s, h) = (next, hNext)
            if origin.dot(origin) + 2 * s * b + s * s < shell.lowerBound * shell.lowerBound { break }  // passed below all relief
        }
        return nil
    }
}
