import AreoGeometry
import Foundation
import Testing

/// Ray–terrain intersection: exact on a sphere-like model, equal to a fine brute-force march on
/// slopes, cliffs and craters, the ellipsoid beyond the models, nothing for a ray that misses.
@Suite struct TerrainTests {
    /// A model of `size` × `size` pixels of `pixel` degrees centred on (0°, 10°E) with radius
    /// `radius(lat, lon)` metres.
    static func model(size: Int = 200, pixel: Double = 0.002, resolution: Double = 120, _ radius: (Double, Double) -> Double) throws -> ShapeModel {
        let west = 10 - Double(size) * pixel / 2, north = Double(size) * pixel / 2
        var values: [Float] = []
        for r in 0..<size {
            for c in 0..<size { values.append(Float(radius(north - (Double(r) + 0.5) * pixel, west + (Double(c) + 0.5) * pixel))) }
        }
        return try ShapeModel(id: "test", produced: Date(), resolution: resolution, width: size, height: size, west: west, north: north,
                              pixelWidth: pixel, pixelHeight: pixel, values: values, noData: nil)
    }

    /// A ray looking `offNadir` degrees from the vertical (from the west) at the ground point
    /// (lat, lon) of the ellipsoid, from 400 km up.
    static func ray(latitude: Double = 0, longitude: Double = 10.07, offNadir: Double = 10) -> (Vector3, Vector3) {
        let target = Ellipsoid.mars.surfacePoint(latitude: latitude, longitude: longitude)
        let up = target.normalized
        let east = Vector3(0, 0, 1).cross(up).normalized
        let a = offNadir * .pi / 180
        let direction = (-1 * cos(a)) * up + sin(a) * east
        return (target - (400 / cos(a)) * direction, direction)
    }

    /// The first terrain point by marching 0.5 m at a time (the reference).
    static func bruteForce(_ terrain: Terrain, origin: Vector3, direction: Vector3) -> Vector3? {
        let d = direction.normalized
        var s = 390.0
        while s < 450 {
            let p = origin + s * d
            if p.length <= terrain.surfaceRadius(at: p).radius { return p }
            s += 0.000_5
        }
        return nil
    }

    @Test func aConstantRadiusModelIsASphere() throws {
        let radius = 3_397_500.0
        let terrain = Terrain(models: [try Self.model { _, _ in radius }])
        let (origin, direction) = Self.ray()
        let hit = try #require(terrain.intersect(origin: origin, direction: direction))
        // Analytic: |o + s d| = R.
        let d = direction.normalized, R = radius / 1000
        let b = origin.dot(d), s = -b - (b * b - origin.dot(origin) + R * R).squareRoot()
        #expect((hit.point - (origin + s * d)).length < 1e-5, "within 1 cm")
        #expect(hit.model?.id == "test")
    }

    @Test func slopesCliffsAndCratersMatchABruteForceMarch() throws {
        let (origin, direction) = Self.ray()
        let shapes: [(String, (Double, Double) -> Double)] = [
            ("tilted plane", { lat, lon in 3_396_190 + 2_000 * (lon - 10) / 0.2 + 500 * lat / 0.2 }),
            ("cliff of 2 km across one pixel", { _, lon in lon < 10.068 ? 3_396_190 : 3_398_190 }),
            ("crater", { lat, lon in
                let r = ((lon - 10.07) * (lon - 10.07) + lat * lat).squareRoot() / 0.05
                return 3_396_190 + (r < 1 ? -1_500 * (1 - r * r) : 300 * exp(-(r - 1) * 4))
            }),
            ("ridge of 60° slopes", { _, lon in 3_396_190 + max(0, 3_000 - abs(lon - 10.07) * 59_274 * 1.7) }),
        ]
        for (name, shape) in shapes {
            let terrain = Terrain(models: [try Self.model(shape)])
            for offNadir in [0.0, 10, 25] {
                let (o, dir) = offNadir == 10 ? (origin, direction) : Self.ray(offNadir: offNadir)
                let hit = try #require(terrain.intersect(origin: o, direction: dir), "\(name) at \(offNadir)°")
                #expect(hit.model != nil, "\(name) at \(offNadir)°: the ray meets the model")
                let reference = try #require(Self.bruteForce(terrain, origin: o, direction: dir))
                #expect((hit.point - reference).length < 0.001, "\(name) at \(offNadir)°: \((hit.point - reference).length * 1000) m from the brute-force march")
            }
        }
    }

    @Test func beyondTheModelsTheEllipsoidAppliesAndAMissIsNothing() throws {
        let terrain = Terrain(models: [try Self.model { _, _ in 3_397_000 }])
        let (origin, direction) = Self.ray(latitude: 30, longitude: 100)
        let hit = try #require(terrain.intersect(origin: origin, direction: direction))
        let ellipsoid = try #require(Ellipsoid.mars.intersect(origin: origin, direction: direction))
        #expect((hit.point - ellipsoid).length < 1e-5 && hit.model == nil)
        // A ray pointing away from Mars, and a ray passing beside it.
        #expect(terrain.intersect(origin: origin, direction: -1 * direction) == nil)
        #expect(terrain.intersect(origin: Vector3(10_000, 0, 0), direction: Vector3(0, 1, 0)) == nil)
        #expect(terrain.intersect(origin: origin, direction: Vector3(.nan, 0, 0)) == nil)
        // Without models the terrain is the ellipsoid exactly.
        let bare = Terrain(models: [])
        #expect(bare.intersect(origin: origin, direction: direction).map { ($0.point - ellipsoid).length } == 0)
    }

    @Test func throughput() throws {
        let terrain = Terrain(models: [try Self.model { lat, lon in 3_396_190 + 800 * sin(lon * 300) * cos(lat * 300) }])
        let (origin, direction) = Self.ray()
        let start = ContinuousClock.now
        var hits = 0
        for k in 0..<2_000 {
            let tilt = Vector3(0, Double(k % 40 - 20) * 0.000_5, Double(k / 40 - 25) * 0.000_5)
            if terrain.intersect(origin: origin, direction: direction + tilt) != nil { hits += 1 }
        }
        let seconds = (ContinuousClock.now - start) / .seconds(1)
        #expect(hits == 2_000)
        print("ray–terrain intersections: \(Int(Double(hits) / seconds)) rays/s (debug build, one thread; printed, not asserted)")
    }
}
