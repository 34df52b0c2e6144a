#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The geometry of one framelet: the camera at the exposure's mid-time (ICD §8: every pixel of
/// a framelet is seen at `start + duration/2`) looking through its window.
public struct FrameletCamera: Sendable {
    public let state: Trajectory.State
    public let camera: CameraModel
    public let ellipsoid: Ellipsoid
    public let rotationDegrees: Double
    public let firstRow: Int
    public let firstColumn: Int
    public let binning: Int
    public let lines: Int
    public let samples: Int
    /// The shape models the rays meet (nil: the ellipsoid, ICD §7).
    public let terrain: Terrain?
    /// Rows of the rotation from the body-fixed frame to the camera frame at θ (the attitude's
    /// inverse, then the mechanism's turn), so a point is projected with nine products.
    private let toCamera: (Vector3, Vector3, Vector3)
    /// 1/a², 1/a², 1/b² of the ellipsoid: its (unnormalised) normal at p is p scaled by these.
    private let normalScale: Vector3

    public init(state: Trajectory.State, camera: CameraModel, ellipsoid: Ellipsoid = .mars, terrain: Terrain? = nil, rotationDegrees: Double,
                firstRow: Int, firstColumn: Int, binning: Int, lines: Int, samples: Int) {
        self.state = state
        self.camera = camera
        self.ellipsoid = ellipsoid
        self.terrain = terrain.flatMap { $0.models.isEmpty ? nil : $0 }
        self.rotationDegrees = rotationDegrees
        (self.firstRow, self.firstColumn, self.binning, self.lines, self.samples) = (firstRow, firstColumn, binning, lines, samples)
        let bodyToInstrument = state.attitude.conjugate
        // Columns of the body → instrument rotation, then the turn by −θ about +Z (the inverse of
        // CameraModel.lookDirection's), as rows.
        let (ex, ey, ez) = (bodyToInstrument.rotate(Vector3(1, 0, 0)), bodyToInstrument.rotate(Vector3(0, 1, 0)), bodyToInstrument.rotate(Vector3(0, 0, 1)))
        let rows = (Vector3(ex.x, ey.x, ez.x), Vector3(ex.y, ey.y, ez.y), Vector3(ex.z, ey.z, ez.z))
        let theta = (rotationDegrees + camera.mechanismOffsetDegrees) * .pi / 180
        let (c, s) = (cos(theta), sin(theta))
        toCamera = (c * rows.0 + s * rows.1, -s * rows.0 + c * rows.1, rows.2)
        let (a2, b2) = (ellipsoid.equatorialRadius * ellipsoid.equatorialRadius, ellipsoid.polarRadius * ellipsoid.polarRadius)
        normalScale = Vector3(1 / a2, 1 / a2, 1 / b2)
    }

    /// What sample (c, r) — continuous, the centre of sample (0, 0) is (0, 0) — sees.
    public func view(sample c: Double, line r: Double) -> SurfaceView? {
        let (x, y) = CameraModel.detectorPoint(sample: c, line: r, firstColumn: firstColumn, firstRow: firstRow, binning: binning)
        let direction = state.attitude.rotate(camera.lookDirection(x: x, y: y, rotationDegrees: rotationDegrees))
        if let terrain { return terrain.view(from: state, direction: direction) }
        return ellipsoid.view(from: state, direction: direction)
    }

    /// Where sample (c, r)'s ray meets the surface (the terrain when there is one), without the
    /// illumination; nil when it misses.
    public func ground(sample c: Double, line r: Double) -> Vector3? {
        let (x, y) = CameraModel.detectorPoint(sample: c, line: r, firstColumn: firstColumn, firstRow: firstRow, binning: binning)
        let direction = state.attitude.rotate(camera.lookDirection(x: x, y: y, rotationDegrees: rotationDegrees))
        if let terrain { return terrain.intersect(origin: state.position, direction: direction)?.point }
        return ellipsoid.intersect(origin: state.position, direction: direction)
    }

    /// The surface point above (`latitude`, `longitude`): on the terrain when there is one.
    @inline(__always) public func surfacePoint(latitude: Double, longitude: Double) -> Vector3 {
        surfacePoint(latitude: latitude, longitude: longitude, direction: Ellipsoid.direction(latitude: latitude, longitude: longitude))
    }

    /// The same, given the unit planetocentric `direction` of (`latitude`, `longitude`).
    @inline(__always) public func surfacePoint(latitude: Double, longitude: Double, direction: Vector3) -> Vector3 {
        terrain?.surfacePoint(latitude: latitude, longitude: longitude, direction: direction) ?? ellipsoid.surfacePoint(direction: direction)
    }

    /// The boresight in the body-fixed frame (the rotation about +Z leaves it in place).
    public var boresight: Vector3 { state.attitude.rotate(Vector3(0, 0, 1)) }

    /// α of ICD §9: the angle between the boresight and the direction from the spacecraft to the Sun, degrees.
    public var sunAngleDegrees: Double { boresight.angle(to: state.sun - state.position) * 180 / .pi }

    /// The continuous sample coordinates (c, r) at which body-fixed surface point `p` is seen,
    /// or nil when it faces away from the camera or is behind it.
    /// (CameraModel.detectorPoint(looking:rotationDegrees:) of the line of sight in the
    /// instrument frame, with the rotation folded into one matrix.)
    @inline(__always) public func sampleCoordinates(of p: Vector3) -> (sample: Double, line: Double)? {
        let line = p - state.position
        guard line.dot(p * normalScale) < 0 else { return nil }  // the far side
        let z = toCamera.2.dot(line)
        guard z > 0 else { return nil }
        let scale = camera.focalLengthMM / z / camera.pixelPitchMM
        let x = camera.principalPoint.x + toCamera.0.dot(line) * scale, y = camera.principalPoint.y + toCamera.1.dot(line) * scale
        let b = Double(binning)
        return ((x - Double(firstColumn)) / b - 0.5, (y - Double(firstRow)) / b - 0.5)
    }
}
