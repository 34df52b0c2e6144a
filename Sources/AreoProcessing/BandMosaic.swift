import AreoGeometry

/// One band projected onto a map grid: I/F per pixel (NaN where nothing was seen) and a mask of
/// pixels whose nearest sample was saturated.
public struct BandMosaic: Sendable {
    public let grid: MapGrid
    public var iof: [Float]
    public var saturated: [Bool]

    /// Fraction of the grid with no value.
    public var missingFraction: Double { Double(iof.count { $0.isNaN }) / Double(max(1, iof.count)) }
    /// Fraction of the covered pixels that are saturated.
    public var saturatedFraction: Double {
        let covered = iof.count { !$0.isNaN }
        return covered == 0 ? 0 : Double(saturated.count { $0 }) / Double(covered)
    }
}
