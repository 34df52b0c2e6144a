/// A raster on a geographic grid (ICD §11, §12): planetocentric latitude, east longitude,
/// degrees, pixel-is-area, rows from the north. The one rule for reading a value between pixel
/// centres, shared by shape models and reference maps.
public struct GeographicGrid: Sendable, Equatable {
    public var width: Int, height: Int
    /// Longitude of the west edge of the first column, latitude of the north edge of the first row.
    public var west: Double, north: Double
    /// Degrees per pixel (east, south).
    public var pixelWidth: Double, pixelHeight: Double

    @inlinable
    public init(width: Int, height: Int, west: Double, north: Double, pixelWidth: Double, pixelHeight: Double) {
        (self.width, self.height, self.west, self.north, self.pixelWidth, self.pixelHeight) = (width, height, west, north, pixelWidth, pixelHeight)
    }

    /// `values` (row-major, NaN no data) at (`latitude`, `longitude`), bilinear between pixel
    /// centres (longitudes taken round the planet); nil outside the grid or next to no data.
    @inlinable @inline(__always)
    public func bilinear(_ values: [Float], latitude: Double, longitude: Double) -> Double? {
        guard latitude.isFinite, longitude.isFinite, width > 1, height > 1 else { return nil }
        var lon = longitude
        if !(lon >= west && lon < west + 360) {
            // Round the planet in one step (a loop of ±360 would never end for a huge longitude).
            lon = (lon - west).truncatingRemainder(dividingBy: 360)
            if lon < 0 { lon += 360 }
            lon += west
            if lon >= west + 360 { lon -= 360 }
        }
        // Continuous pixel coordinates with pixel centres at integers.
        let x = (lon - west) / pixelWidth - 0.5, y = (north - latitude) / pixelHeight - 0.5
        guard x >= 0, y >= 0, x <= Double(width - 1), y <= Double(height - 1) else { return nil }
        let c0 = min(Int(x), width - 2), r0 = min(Int(y), height - 2)
        let tx = x - Double(c0), ty = y - Double(r0)
        let k = r0 * width + c0
        let a = Double(values[k]), b = Double(values[k + 1]), c = Double(values[k + width]), d = Double(values[k + width + 1])
        let value = (a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty
        return value.isFinite ? value : nil
    }
}
