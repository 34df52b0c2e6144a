import AreoCodecs

/// A map tile's pixels as an image. Unlike a product's browse stretch (each image between its own
/// percentiles), a tile's is the same fixed I/F range for every tile of a layer, so neighbouring
/// tiles match at their seams. PNG tiles are transparent where there is no data; JPEG tiles are
/// black there.
public enum TileImage {
    /// The I/F range stretched to 8 bits: `low` → 1, `high` → 255 (clipped).
    public struct Stretch: Sendable, Hashable, Codable {
        public var low: Float
        public var high: Float

        /// Mars I/F in the visible and near infrared lies almost always within 0–0.4.
        public static let standard = Stretch(low: Float(0), high: Float(0.4))

        /// A checked range: finite, `low < high`, within −1…10.
        public init?(low: Double, high: Double) {
            guard low.isFinite, high.isFinite, low < high, low >= -1, high <= 10 else { return nil }
            (self.low, self.high) = (Float(low), Float(high))
        }

        init(low: Float, high: Float) { (self.low, self.high) = (low, high) }

        /// `"0,0.4"` (the form in URLs and cache keys).
        public var text: String { "\(low),\(high)" }
    }

    /// Encodes one band (grey) or three (colour) of `size` × `size` I/F values (NaN missing).
    /// - Parameter format: `.png` (with alpha) or `.jpg`.
    public static func encode(_ planes: [[Float]], width: Int, height: Int, stretch: Stretch, format: ProductFormat) throws -> [UInt8] {
        let count = width * height
        guard planes.count == 1 || planes.count == 3, planes.allSatisfy({ $0.count == count }) else {
            throw ProcessingError(.invalidRequest, "a tile has one or three planes of \(width) × \(height) values")
        }
        let scale = 254 / (stretch.high - stretch.low)
        let channels = planes.count + (format == .png ? 1 : 0)
        var pixels = [UInt8](repeating: 0, count: count * channels)
        for p in 0..<count {
            var present = true
            for plane in planes where plane[p].isNaN { present = false }
            guard present else { continue }
            for (b, plane) in planes.enumerated() {
                pixels[p * channels + b] = UInt8(min(255, max(1, (plane[p] - stretch.low) * scale + 1.5)))
            }
            if format == .png { pixels[p * channels + channels - 1] = 255 }
        }
        switch (format, planes.count) {
        case (.png, 1): return try PNG.encode(pixels, width: width, height: height, layout: .grayAlpha8)
        case (.png, _): return try PNG.encode(pixels, width: width, height: height, layout: .rgba8)
        case (.jpg, 1): return try JPEG.encodeGray(JPEG.GrayImage(width: width, height: height, pixels: pixels), quality: 90)
        case (.jpg, _): return try JPEG.encodeRGB(pixels, width: width, height: height, quality: 90)
        case (.dat, _): throw ProcessingError(.invalidRequest, "tiles are png or jpg")
        }
    }

    /// The empty tile of `format` (fully transparent PNG, black JPEG), made once per layout.
    public static func empty(bands: Int, size: Int, format: ProductFormat) throws -> [UInt8] {
        let plane = [Float](repeating: .nan, count: size * size)
        return try encode(Array(repeating: plane, count: bands == 1 ? 1 : 3), width: size, height: size, stretch: .standard, format: format)
    }
}
