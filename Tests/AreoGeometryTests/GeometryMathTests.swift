import AreoGeometry
import AreoTelemetry
import Foundation
import Testing

@Suite struct GeometryMathTests {
    @Test func quaternionRotationMatchesTheRotationMatrix() {
        // 90° about +Z takes +X to +Y (Hamilton, v' = q v q*).
        let q = Quaternion(axis: Vector3(0, 0, 1), angle: .pi / 2)
        let v = q.rotate(Vector3(1, 0, 0))
        #expect(abs(v.x) < 1e-12 && abs(v.y - 1) < 1e-12 && abs(v.z) < 1e-12)
        // Composition: (a·b) rotates as b then a.
        let a = Quaternion(axis: Vector3(1, 0, 0), angle: 0.3), b = Quaternion(axis: Vector3(0, 1, 0), angle: -1.1)
        let w = Vector3(0.2, -0.5, 0.9)
        #expect(((a * b).rotate(w) - a.rotate(b.rotate(w))).length < 1e-12)
        #expect((q.conjugate.rotate(v) - Vector3(1, 0, 0)).length < 1e-12)
    }

    @Test func slerpFollowsTheShortArcAtConstantRate() {
        let a = Quaternion(axis: Vector3(0, 0, 1), angle: 0.2), b = Quaternion(axis: Vector3(0, 0, 1), angle: 0.8)
        let negated = Quaternion(w: -b.w, x: -b.x, y: -b.y, z: -b.z)  // the same rotation
        for f in [0.0, 0.25, 0.5, 1.0] {
            let expected = Quaternion(axis: Vector3(0, 0, 1), angle: 0.2 + 0.6 * f)
            for end in [b, negated] {
                let q = Quaternion.slerp(a, end, f)
                #expect((q.rotate(Vector3(1, 0, 0)) - expected.rotate(Vector3(1, 0, 0))).length < 1e-12)
            }
        }
    }

    @Test func raysMeetTheEllipsoidWhereGeometrySaysAndMissWhenTheyShould() throws {
        let mars = Ellipsoid.mars
        let equator = try #require(mars.intersect(origin: Vector3(4000, 0, 0), direction: Vector3(-1, 0, 0)))
        #expect((equator - Vector3(3396.19, 0, 0)).length < 1e-9)
        let pole = try #require(mars.intersect(origin: Vector3(0, 0, 5000), direction: Vector3(0, 0, -1)))
        #expect((pole - Vector3(0, 0, 3376.20)).length < 1e-9)
        #expect(mars.intersect(origin: Vector3(4000, 0, 0), direction: Vector3(1, 0, 0)) == nil)  // looking away
        #expect(mars.intersect(origin: Vector3(4000, 0, 0), direction: Vector3(0, 1, 0)) == nil)  // passing by
        // surfacePoint and PlanetocentricCoordinates are inverses, and the point is on the surface.
        for (lat, lon) in [(0.0, 0.0), (45.0, 120.0), (-70.0, 359.5), (89.9, 10.0)] {
            let p = mars.surfacePoint(latitude: lat, longitude: lon)
            let back = PlanetocentricCoordinates(p)
            #expect(abs(back.latitude - lat) < 1e-9 && abs(back.longitude - lon) < 1e-9)
            let a = mars.equatorialRadius, b = mars.polarRadius
            #expect(abs((p.x * p.x + p.y * p.y) / (a * a) + p.z * p.z / (b * b) - 1) < 1e-12)
        }
    }

    @Test func illuminationAnglesOfASimpleScene() {
        // Spacecraft straight above (0°, 0°), Sun 30° away in the equatorial plane.
        let p = Ellipsoid.mars.surfacePoint(latitude: 0, longitude: 0)
        let sun = 2.2e8 * Vector3(cos(.pi / 6), sin(.pi / 6), 0)
        let state = Trajectory.State(t: 0, position: Vector3(3796.19, 0, 0), velocity: Vector3(0, 0, 3.4), attitude: Quaternion(w: 1, x: 0, y: 0, z: 0), sun: sun)
        let view = Ellipsoid.mars.view(of: p, from: state)
        #expect(abs(view.emission) < 1e-9)
        #expect(abs(view.incidence - 30) < 1e-3)
        #expect(abs(view.phase - 30) < 1e-3)
        #expect(abs(view.localSolarTime - 10) < 1e-3)  // 30° west of the subsolar point: 10:00
        #expect(abs(view.sunDistanceAU - 2.2e8 / astronomicalUnitKM) < 1e-4)
    }

    @Test func hermiteReproducesACubicTrajectoryAndTheClockIsPiecewiseLinear() throws {
        // x(t) = t³ − 2t² + 3t + 5 is cubic: Hermite from samples and derivatives is exact.
        func x(_ t: Double) -> Double { t * t * t - 2 * t * t + 3 * t + 5 }
        func v(_ t: Double) -> Double { 3 * t * t - 4 * t + 3 }
        let times = [0.0, 2, 4, 6]
        let kernel = GeometryKernel(
            kernelID: "k", kind: .reconstructed, produced: "2026-01-01T00:00:00Z", frame: "MARS_FIXED", coverageSCLK: [0, 100],
            clock: [.init(sclk: 100, t: 1000), .init(sclk: 200, t: 1100.5)],
            ephemeris: times.map { .init(t: $0, position: [x($0), 0, 0], velocity: [v($0), 0, 0]) },
            attitude: [.init(t: 0, quaternion: [1, 0, 0, 0]), .init(t: 6, quaternion: [cos(0.3), 0, 0, sin(0.3)])],
            sun: [.init(t: 0, position: [1, 0, 0]), .init(t: 6, position: [7, 0, 0])])
        let trajectory = Trajectory(kernel: kernel)
        for t in [0.5, 1.7, 3.3, 5.9] {
            #expect(abs(trajectory.position(at: t).x - x(t)) < 1e-9)
            #expect(abs(trajectory.velocity(at: t).x - v(t)) < 1e-9)
        }
        #expect(abs(trajectory.sun(at: 3).x - 4) < 1e-12)
        #expect(abs(trajectory.t(sclk: 150) - 1050.25) < 1e-9)
        #expect(abs(trajectory.t(sclk: 300) - 1201) < 1e-9)  // the last segment's rate, extended
        // Attitude at mid-time: half the rotation (0.3 rad of 0.6 about Z).
        let mid = trajectory.attitude(at: 3).rotate(Vector3(1, 0, 0))
        #expect(abs(atan2(mid.y, mid.x) - 0.3) < 1e-12)
    }

    @Test func theCameraModelRoundTripsAndRotatesAboutTheBoresight() throws {
        let instrument = try InstrumentDescription.parse(Data("""
            {"name":"t","detector":{"rows":256,"cols":256,"pixel_pitch_mm":0.01,"focal_length_mm":220,"principal_point":[128,128]},"bands":[]}
            """.utf8), file: "t")
        let camera = CameraModel(instrument: instrument)
        // The principal point looks along +Z; +X is increasing column.
        let centre = camera.lookDirection(x: 128, y: 128, rotationDegrees: 0)
        #expect((centre - Vector3(0, 0, 1)).length < 1e-12)
        let right = camera.lookDirection(x: 228, y: 128, rotationDegrees: 0)
        #expect(right.x > 0 && abs(right.y) < 1e-15 && abs(atan(right.x / right.z) - atan(1.0 / 220)) < 1e-12)
        // At 90° the +column direction turns to +Y; at 180° to −X.
        #expect(camera.lookDirection(x: 228, y: 128, rotationDegrees: 90).y > 0)
        #expect(camera.lookDirection(x: 228, y: 128, rotationDegrees: 180).x < 0)
        for rotation in [0.0, 37.5, 180] {
            for (px, py) in [(3.25, 250.5), (128.0, 10.0), (200.75, 128.5)] {
                let d = camera.lookDirection(x: px, y: py, rotationDegrees: rotation)
                let back = try #require(camera.detectorPoint(looking: d, rotationDegrees: rotation))
                #expect(abs(back.x - px) < 1e-9 && abs(back.y - py) < 1e-9)
            }
        }
        #expect(CameraModel.detectorPoint(sample: 0, line: 0, firstColumn: 10, firstRow: 20, binning: 2) == (11, 21))
    }
}

/// The framelet camera's projection (one matrix: the attitude's inverse and the mechanism's turn)
/// inverts its rays (the look direction rotated by the attitude), for any rotation angle and
/// mechanism offset; a point behind the camera or on the far side is not seen.
@Suite struct FrameletCameraTests {
    @Test(arguments: [0.0, 13.5, -90, 181.2])
    func projectionInvertsTheRays(rotationDegrees: Double) throws {
        let detector = InstrumentDescription.Detector(rows: 2048, cols: 2048, pixelPitchMM: 0.01, focalLengthMM: 880, principalPoint: [1023.5, 1023.5])
        var model = CameraModel(instrument: InstrumentDescription(name: "t", detector: detector, bands: []))
        model.mechanismOffsetDegrees = 0.27
        let sun = 2.2e8 * Vector3(1, 0.2, 0)
        // 400 km above (5°N, 135°E).
        let ground = Ellipsoid.mars.surfacePoint(latitude: 5, longitude: 135)
        let position = ground + 400 * ground.normalized
        // An attitude whose boresight points down: turn +Z of the instrument onto −position.
        let down = (-1 * position).normalized, z = Vector3(0, 0, 1)
        let axis = z.cross(down), angle = atan2(axis.length, z.dot(down))
        let pointing = Quaternion(axis: axis.normalized, angle: angle) * Quaternion(axis: z, angle: 0.4)
        let state = Trajectory.State(t: 0, position: position, velocity: Vector3(0, 3.4, 0), attitude: pointing, sun: sun)
        let camera = FrameletCamera(state: state, camera: model, rotationDegrees: rotationDegrees, firstRow: 900, firstColumn: 0,
                                    binning: 2, lines: 128, samples: 1024)
        for (c, r) in [(0.0, 0.0), (511.5, 63.5), (1023.0, 127.0), (-3.2, 140.7)] {
            let seen = try #require(camera.ground(sample: c, line: r))
            let back = try #require(camera.sampleCoordinates(of: seen))
            #expect(abs(back.sample - c) < 1e-6 && abs(back.line - r) < 1e-6, "(\(c), \(r)) → \(back)")
        }
        // The far side of the planet and a point behind the camera are not seen.
        #expect(camera.sampleCoordinates(of: -1 * ground) == nil)
        #expect(camera.sampleCoordinates(of: position + 10 * position.normalized) == nil)
    }
}
