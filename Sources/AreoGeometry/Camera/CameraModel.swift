#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The pinhole camera of ICD §8: detector coordinates → look direction in the instrument frame.
public struct CameraModel: Sendable, Equatable {
    public let pixelPitchMM: Double
    public let focalLengthMM: Double
    public let principalPoint: (x: Double, y: Double)
    /// The rotation mechanism's offset, added to every commanded angle (0 unless estimated).
    public var mechanismOffsetDegrees: Double = 0

    public init(instrument: InstrumentDescription) {
        pixelPitchMM = instrument.detector.pixelPitchMM
        focalLengthMM = instrument.detector.focalLengthMM
        principalPoint = (instrument.detector.principalPoint[0], instrument.detector.principalPoint[1])
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.pixelPitchMM == b.pixelPitchMM && a.focalLengthMM == b.focalLengthMM && a.principalPoint == b.principalPoint
            && a.mechanismOffsetDegrees == b.mechanismOffsetDegrees
    }

    /// The centre of binned sample (c, r) of a window, in detector coordinates (ICD §8).
    public static func detectorPoint(sample c: Double, line r: Double, firstColumn: Int, firstRow: Int, binning: Int) -> (x: Double, y: Double) {
        (Double(firstColumn) + (c + 0.5) * Double(binning), Double(firstRow) + (r + 0.5) * Double(binning))
    }

    /// The unit look direction of detector point (x, y) in the instrument frame at rotation angle
    /// `rotationDegrees` (commanded; the mechanism offset is added).
    public func lookDirection(x: Double, y: Double, rotationDegrees: Double) -> Vector3 {
        let camera = Vector3((x - principalPoint.x) * pixelPitchMM, (y - principalPoint.y) * pixelPitchMM, focalLengthMM).normalized
        let theta = (rotationDegrees + mechanismOffsetDegrees) * .pi / 180
        let (c, s) = (cos(theta), sin(theta))
        return Vector3(c * camera.x - s * camera.y, s * camera.x + c * camera.y, camera.z)
    }

    /// The detector point seen along an instrument-frame direction (the inverse of
    /// ``lookDirection(x:y:rotationDegrees:)``), or nil when it points away from the scene.
    public func detectorPoint(looking direction: Vector3, rotationDegrees: Double) -> (x: Double, y: Double)? {
        let theta = (rotationDegrees + mechanismOffsetDegrees) * .pi / 180
        let (c, s) = (cos(theta), sin(theta))
        let camera = Vector3(c * direction.x + s * direction.y, -s * direction.x + c * direction.y, direction.z)
        guard camera.z > 0 else { return nil }
        let scale = focalLengthMM / camera.z / pixelPitchMM
        return (principalPoint.x + camera.x * scale, principalPoint.y + camera.y * scale)
    }
}
