import AreoCompute
import AreoCodecs
import AreoGeometry

/// A product's pixels before encoding: one or three float bands (band-sequential), with the
/// special values of PDS4 (`missing_constant`, `high_instrument_saturation`) kept apart.
public struct ProductRaster: Sendable {
    public let width: Int
    public let height: Int
    /// Band-sequential values; NaN is missing.
    public var bands: [[Float]]
    /// Per pixel, saturated in any band (nil when the product has no saturation mask).
    public var saturated: [Bool]?
    /// The map grid for projected products; nil for unprojected (raw, calibrated).
    public var grid: MapGrid?
    /// What a value is: "DN" or "I/F".
    public var unit: String

    public init(width: Int, height: Int, bands: [[Float]], saturated: [Bool]? = nil, grid: MapGrid? = nil, unit: String, planes8: [[UInt8]]? = nil) {
        self.planes8 = planes8
        self.width = width
        self.height = height
        self.bands = bands
        self.saturated = saturated
        self.grid = grid
        self.unit = unit
    }

    /// The PDS4 special constants written into `.dat` products (the ISIS special pixel values).
    public enum SpecialConstant {
        /// `missing_constant`: no data (ISIS NULL, 0xFF7FFFFB).
        public static let missing = Float(bitPattern: 0xFF7F_FFFB)
        /// `high_instrument_saturation`: the detector saturated (ISIS HIS, 0xFF7FFFFE).
        public static let saturated = Float(bitPattern: 0xFF7F_FFFE)
    }

    /// Little-endian float32, band-sequential, with the special constants.
    public func float32LittleEndian() -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(width * height * bands.count * 4)
        for band in bands {
            for (index, value) in band.enumerated() {
                let v: Float = value.isNaN ? SpecialConstant.missing : (saturated?[index] == true ? SpecialConstant.saturated : value)
                withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
            }
        }
        return bytes
    }

    /// A composite's planes as red, green, blue: PAN-BLU's two get a synthetic middle channel,
    /// the mean of the two (NaN where either is missing); three are returned as they are.
    public static func colourPlanes(_ planes: [[Float]]) -> [[Float]] {
        guard planes.count == 2 else { return planes }
        return [planes[0], zip(planes[0], planes[1]).map { ($0 + $1) / 2 }, planes[1]]
    }

    /// 8-bit browse planes made already (a composite rendered for PNG/JPEG keeps only these).
    public var planes8: [[UInt8]]? = nil

    /// The linear stretch of each band to 8 bits between its 0.5th and 99.5th percentiles
    /// (missing pixels 0): the browse stretch.
    public func browse8() -> [[UInt8]] {
        planes8 ?? bands.map(Self.stretch8)
    }

    /// One band stretched to 1…255 between its 0.5th and 99.5th percentiles, 0 where missing.
    public static func stretch8(_ band: [Float]) -> [UInt8] {
        let (low, high) = percentiles(band, 0.005, 0.995)
        let scale = 254 / max(high - low, Float.ulpOfOne)
        return LargeBuffers.array(count: band.count) { (out: UnsafeMutableBufferPointer<UInt8>) in
            band.withUnsafeBufferPointer { values in
                nonisolated(unsafe) let (values, out) = (values, out)
                ParallelChunks.forEach(values.count) { range in
                    for k in range {
                        let v = values[k]
                        out[k] = v.isNaN ? 0 : UInt8(min(255, max(1, (v - low) * scale + 1.5)))
                    }
                }
            }
        }
    }

    /// Percentiles of the finite values from a 65 536-bin histogram between their extremes (to
    /// within 1/65 536 of the range; no sort of tens of millions of values), over at most about
    /// four million values (a regular subsample of larger images).
    static func percentiles(_ all: [Float], _ p: Double, _ q: Double) -> (Float, Float) {
        let stride = max(1, all.count / 4_000_000)
        let values = stride == 1 ? all : Swift.stride(from: 0, to: all.count, by: stride).map { all[$0] }
        var low = Float.infinity, high = -Float.infinity, count = 0
        for v in values where v.isFinite {
            low = min(low, v)
            high = max(high, v)
            count += 1
        }
        guard count > 0 else { return (0, 1) }
        guard high > low else { return (low, high) }
        let bins = 65_536
        var histogram = [Int](repeating: 0, count: bins)
        let scale = Float(bins - 1) / (high - low)
        for v in values where v.isFinite { histogram[Int((v - low) * scale)] += 1 }
        func at(_ f: Double) -> Float {
            let target = Int(Double(count - 1) * f)
            var seen = 0
            for (bin, n) in histogram.enumerated() {
                seen += n
                if seen > target { return low + Float(bin) / scale }
            }
            return high
        }
        return (at(p), at(q))
    }

    /// 16-bit data: for I/F `round(I/F · 20000) + 1` (0 missing, 65535 saturated or above range);
    /// for DN the DN itself + 1 (0 missing). See docs/processing.md.
    public func data16() -> [UInt16] {
        let (offset, scale) = unit == "DN" ? (1.0, 1.0) : (1.0, Self.iofScale16)
        let empty: [Bool] = []
        return bands[0].withUnsafeBufferPointer { band in
            (saturated ?? empty).withUnsafeBufferPointer { saturated in
                [UInt16](unsafeUninitializedCapacity: band.count) { out, initialized in
                    nonisolated(unsafe) let (band, saturated, out) = (band, saturated, out)
                    ParallelChunks.forEach(band.count) { range in
                        for index in range {
                            let value = band[index]
                            if value.isNaN {
                                out[index] = 0
                            } else if !saturated.isEmpty, saturated[index] {
                                out[index] = 65535
                            } else {
                                out[index] = UInt16(min(65535, max(1, (Double(value) * scale + offset).rounded())))
                            }
                        }
                    }
                    initialized = band.count
                }
            }
        }
    }

    /// I/F per count of 16-bit PNG data.
    public static let iofScale16 = 20_000.0

    /// Encodes the raster.
    public func encode(_ format: ProductFormat) throws -> [UInt8] {
        switch format {
        case .dat:
            return float32LittleEndian()
        case .png where bands.count == 1:
            return try PNG.encode(gray16: data16(), width: width, height: height)
        case .png:
            return try PNG.encode(planes: PixelPlanes.rgb(browse8()), width: width, height: height)
        case .jpg where bands.count == 1:
            return try JPEG.encodeGray(JPEG.GrayImage(width: width, height: height, pixels: browse8()[0]))
        case .jpg:
            return try JPEG.encodeRGB(PixelPlanes.interleaved(PixelPlanes.rgb(browse8()), count: width * height), width: width, height: height)
        }
    }
}

/// Product file formats.
public enum ProductFormat: String, Sendable, Codable, CaseIterable {
    /// PNG: 16-bit data for one band, 8-bit browse for colour.
    case png
    /// JPEG browse (8-bit).
    case jpg
    /// Raw little-endian float32 with a PDS4 label beside it.
    case dat
}
