import AreoGeometry
import AreoTelemetry

/// The simulator's instruments: `tiny` (256² detector, four 32-row windows, for tests), `small`
/// (512², 64-row windows) and `cassis` (2048², 10 µm pixels, f = 880 mm ⇒ ≈ 4.5 m/pixel from
/// 400 km, four windows of 256–280 rows, 40 exposures per observation).
public enum InstrumentPreset: String, Sendable, CaseIterable {
    case tiny, small, cassis

    public var description: InstrumentDescription {
        let (size, focal, windows): (Int, Double, [(Int, Int)]) = switch self {
        case .tiny: (256, 220, [(25, 32), (84, 32), (143, 32), (202, 32)])
        case .small: (512, 440, [(50, 64), (170, 64), (290, 64), (410, 64)])
        case .cassis: (2048, 880, [(354, 280), (712, 256), (1048, 256), (1409, 256)])
        }
        let names = [("PAN", 677.0), ("RED", 835.0), ("NIR", 940.0), ("BLU", 497.0)]
        return InstrumentDescription(
            name: "AREO-SIM-\(rawValue.uppercased())",
            detector: .init(rows: size, cols: size, pixelPitchMM: 0.01, focalLengthMM: focal, principalPoint: [Double(size) / 2, Double(size) / 2]),
            bands: names.enumerated().map { index, band in
                .init(id: index, name: band.0, centerNM: band.1, window: .init(firstRow: windows[index].0, rows: windows[index].1, firstCol: 0, cols: size))
            })
    }

    /// Exposures per observation.
    public var exposures: Int {
        switch self {
        case .tiny: 12
        case .small: 20
        case .cassis: 40
        }
    }
}
