import AreoGeometry

/// One band projected onto a map grid: I/F per pixel (NaN where nothing was seen) and a mask of
/// pixels whose nearest sample was saturated.
public struct BandMosaic: Sendable {
    public let grid: MapGrid
    public var iof: [Float]
    public var saturated: [Bool]
    /// Pixels with a value, and those of them saturated (counted when the mosaic is finished).
    public let coveredPixels: Int
    public let saturatedPixels: Int
    /// The builder's weight buffer, kept so a next band on the same grid can reuse it.
    var spareWeight: [Float] = []

    init(grid: MapGrid, iof: [Float], saturated: [Bool], coveredPixels: Int, saturatedPixels: Int, spareWeight: [Float] = []) {
        (self.grid, self.iof, self.saturated, self.coveredPixels, self.saturatedPixels, self.spareWeight) =
            (grid, iof, saturated, coveredPixels, saturatedPixels, spareWeight)
    }

    /// This mosaic's buffers as scratch for the next one (the mosaic is used up).
    consuming func scratch() -> MosaicScratch { MosaicScratch(sum: iof, weight: spareWeight, saturated: saturated) }

    /// Fraction of the grid with no value.
    public var missingFraction: Double { 1 - Double(coveredPixels) / Double(max(1, iof.count)) }
    /// Fraction of the covered pixels that are saturated.
    public var saturatedFraction: Double { coveredPixels == 0 ? 0 : Double(saturatedPixels) / Double(coveredPixels) }
}
