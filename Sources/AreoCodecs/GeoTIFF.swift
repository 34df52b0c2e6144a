internal import CTIFF
import Foundation

/// GeoTIFF rasters of one float32 band through libtiff (Debian's `libtiff-dev`): strips or tiles,
/// uncompressed or Deflate, with the GeoTIFF georeferencing tags (ICD §11). libtiff's own
/// messages are silenced; every refusal is a ``CodecError`` naming the file, where in it, and the
/// rule broken. Tags are read with `TIFFVGetField` (Swift cannot call C variadics directly).
public enum GeoTIFF {
    /// A raster read from a file: values row by row from the top, and its georeferencing.
    public struct Raster: Sendable {
        public var width: Int
        public var height: Int
        /// Row-major, top row first.
        public var values: [Float]
        /// `ModelPixelScaleTag`: the size of a pixel in model units (x, y).
        public var pixelScale: (x: Double, y: Double)
        /// `ModelTiepointTag`: raster point (i, j) at model point (x, y).
        public var tiepoint: (i: Double, j: Double, x: Double, y: Double)
        /// `GTModelTypeGeoKey` (1024): 1 projected, 2 geographic, 3 geocentric; nil when absent.
        public var modelType: Int?
        /// `GTRasterTypeGeoKey` (1025): 1 pixel-is-area, 2 pixel-is-point; nil when absent.
        public var rasterType: Int?
        /// `GeogAngularUnitsGeoKey` (2054): 9102 is degrees; nil when absent.
        public var angularUnits: Int?
        /// `GDAL_NODATA` (tag 42113), when given.
        public var noData: Double?
        public var tiled: Bool
        public var compression: Int
    }

    /// The most pixels a raster may have (a 46 m global Mars model is ~36 MP; this is 8× more).
    public static let maximumPixels = 300_000_000

    static let pixelScaleTag: UInt32 = 33550, tiepointTag: UInt32 = 33922, geoKeysTag: UInt32 = 34735, noDataTag: UInt32 = 42113

    /// Reads the first image of the TIFF at `path`.
    public static func readFloat32(path: String) throws(CodecError) -> Raster {
        let name = (path as NSString).lastPathComponent
        func refuse(_ rule: String) -> CodecError { CodecError(.tiff, "\(name): \(rule)") }
        TIFFSetErrorHandler(nil)
        TIFFSetWarningHandler(nil)
        guard FileManager.default.isReadableFile(atPath: path) else { throw refuse("cannot be read") }
        guard let tif = TIFFOpen(path, "r") else { throw refuse("offset 0: not a TIFF file (bad header or first directory)") }
        defer { TIFFClose(tif) }

        func u32(_ tag: Int32) -> UInt32? {
            var value: UInt32 = 0
            let ok = withUnsafeMutablePointer(to: &value) { p in withVaList([p]) { TIFFVGetField(tif, UInt32(tag), $0) } }
            return ok == 1 ? value : nil
        }
        func u16(_ tag: Int32) -> UInt16? {
            var value: UInt16 = 0
            let ok = withUnsafeMutablePointer(to: &value) { p in withVaList([p]) { TIFFVGetField(tif, UInt32(tag), $0) } }
            return ok == 1 ? value : nil
        }
        /// A counted array tag (how libtiff passes tags it has no definition for), read only when
        /// the file stores it with the TIFF type `type` (a hostile file may give a tag any type,
        /// and the count counts values of the type it gave).
        func array<T>(_ tag: UInt32, of: T.Type, type: TIFFDataType) -> [T]? {
            guard let field = TIFFFieldWithTag(tif, tag), TIFFFieldDataType(field) == type, TIFFFieldPassCount(field) != 0 else { return nil }
            var data: UnsafeMutableRawPointer? = nil
            var count = 0
            if TIFFFieldReadCount(field) == Int32(TIFF_VARIABLE2) {
                var count32: UInt32 = 0
                let ok = withUnsafeMutablePointer(to: &count32) { c in withUnsafeMutablePointer(to: &data) { d in withVaList([c, d]) { TIFFVGetField(tif, tag, $0) } } }
                guard ok == 1 else { return nil }
                count = Int(count32)
            } else if TIFFFieldReadCount(field) == Int32(TIFF_VARIABLE) {
                var count16: UInt16 = 0
                let ok = withUnsafeMutablePointer(to: &count16) { c in withUnsafeMutablePointer(to: &data) { d in withVaList([c, d]) { TIFFVGetField(tif, tag, $0) } } }
                guard ok == 1 else { return nil }
                count = Int(count16)
            } else {
                return nil
            }
            guard let data, count < 1 << 20 else { return nil }
            return Array(UnsafeBufferPointer(start: data.assumingMemoryBound(to: T.self), count: count))
        }

        guard let width32 = u32(TIFFTAG_IMAGEWIDTH), let height32 = u32(TIFFTAG_IMAGELENGTH), width32 > 0, height32 > 0 else {
            throw refuse("ImageWidth and ImageLength (tags 256, 257) are required and positive")
        }
        let (width, height) = (Int(width32), Int(height32))
        guard width.multipliedReportingOverflow(by: height).partialValue <= maximumPixels, width <= 1 << 20, height <= 1 << 20 else {
            throw refuse("\(width) × \(height) pixels is more than the \(maximumPixels) allowed")
        }
        // Deflate packs at most about 1 032 bytes into one: a header may not claim more pixels than
        // the file could hold, so a small hostile file cannot make the reader allocate gigabytes.
        let fileBytes = ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int) ?? 0
        guard width * height <= max(4_096, fileBytes) * 1_100 / 4 else {
            throw refuse("\(width) × \(height) pixels cannot be held in a file of \(fileBytes) bytes")
        }
        let samples = u16(TIFFTAG_SAMPLESPERPIXEL) ?? 1, bits = u16(TIFFTAG_BITSPERSAMPLE) ?? 1
        let format = u16(TIFFTAG_SAMPLEFORMAT) ?? UInt16(SAMPLEFORMAT_UINT)
        guard samples == 1 else { throw refuse("SamplesPerPixel (tag 277) is \(samples); a shape model has one band") }
        guard bits == 32, format == UInt16(SAMPLEFORMAT_IEEEFP) else {
            throw refuse("samples are \(bits)-bit of SampleFormat \(format) (tags 258, 339); the ICD wants 32-bit IEEE float (SampleFormat 3)")
        }
        let compression = Int(u16(TIFFTAG_COMPRESSION) ?? UInt16(COMPRESSION_NONE))
        guard [Int(COMPRESSION_NONE), Int(COMPRESSION_ADOBE_DEFLATE), Int(COMPRESSION_DEFLATE)].contains(compression) else {
            throw refuse("Compression (tag 259) is \(compression); the ICD allows none (1) or Deflate (8)")
        }
        let predictor = Int(u16(TIFFTAG_PREDICTOR) ?? 1)
        guard [1, 2, 3].contains(predictor) else { throw refuse("Predictor (tag 317) is \(predictor)") }

        guard let scale = array(pixelScaleTag, of: Double.self, type: TIFF_DOUBLE), scale.count >= 2 else {
            throw refuse("ModelPixelScaleTag (33550) is required: three doubles")
        }
        guard let tie = array(tiepointTag, of: Double.self, type: TIFF_DOUBLE), tie.count >= 6 else {
            throw refuse("ModelTiepointTag (33922) is required: six doubles (I, J, K, X, Y, Z)")
        }
        guard tie.count == 6 else { throw refuse("ModelTiepointTag (33922) has \(tie.count / 6) tie points; the ICD's georeferencing is one") }
        var modelType: Int?, rasterType: Int?, angularUnits: Int?
        if let keys = array(geoKeysTag, of: UInt16.self, type: TIFF_SHORT), keys.count >= 4 {
            let count = min(Int(keys[3]), (keys.count - 4) / 4)
            for k in 0..<count {
                let (id, location, value) = (keys[4 + 4 * k], keys[5 + 4 * k], keys[7 + 4 * k])
                guard location == 0 else { continue }  // values held in the key itself
                switch id {
                case 1024: modelType = Int(value)
                case 1025: rasterType = Int(value)
                case 2054: angularUnits = Int(value)
                default: break
                }
            }
        }
        var noData: Double? = nil
        if let text = array(noDataTag, of: CChar.self, type: TIFF_ASCII) {
            let string = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).trimmingCharacters(in: .whitespaces)
            guard let value = Double(string) else { throw refuse("GDAL_NODATA (tag 42113) is '\(string.prefix(40))', not a number") }
            noData = value
        }

        var values = [Float](repeating: 0, count: width * height)
        let tiled = TIFFIsTiled(tif) != 0
        if tiled {
            guard let tw32 = u32(TIFFTAG_TILEWIDTH), let th32 = u32(TIFFTAG_TILELENGTH), tw32 > 0, th32 > 0, tw32 <= 1 << 16, th32 <= 1 << 16 else {
                throw refuse("TileWidth and TileLength (tags 322, 323) are required and at most 65536")
            }
            let (tileWidth, tileHeight) = (Int(tw32), Int(th32))
            let tileBytes = Int(TIFFTileSize(tif))
            guard tileBytes == tileWidth * tileHeight * 4 else { throw refuse("a tile is \(tileBytes) bytes, not \(tileWidth) × \(tileHeight) floats") }
            var tile = [Float](repeating: 0, count: tileWidth * tileHeight)
            for top in stride(from: 0, to: height, by: tileHeight) {
                for left in stride(from: 0, to: width, by: tileWidth) {
                    let number = TIFFComputeTile(tif, UInt32(left), UInt32(top), 0, 0)
                    let read = tile.withUnsafeMutableBytes { TIFFReadEncodedTile(tif, number, $0.baseAddress, tmsize_t($0.count)) }
                    guard read == tileBytes else { throw refuse("tile \(number) (at column \(left), row \(top)) cannot be read: truncated or corrupt") }
                    for r in 0..<min(tileHeight, height - top) {
                        for c in 0..<min(tileWidth, width - left) { values[(top + r) * width + left + c] = tile[r * tileWidth + c] }
                    }
                }
            }
        } else {
            let rowsPerStrip = Int(min(u32(TIFFTAG_ROWSPERSTRIP) ?? height32, height32))
            guard rowsPerStrip > 0 else { throw refuse("RowsPerStrip (tag 278) is 0") }
            let strips = Int(TIFFNumberOfStrips(tif))
            guard strips == (height + rowsPerStrip - 1) / rowsPerStrip else { throw refuse("\(strips) strips for \(height) rows of \(rowsPerStrip)") }
            for strip in 0..<strips {
                let rows = min(rowsPerStrip, height - strip * rowsPerStrip)
                let expected = rows * width * 4
                let read = values.withUnsafeMutableBytes { buffer in
                    TIFFReadEncodedStrip(tif, UInt32(strip), buffer.baseAddress! + strip * rowsPerStrip * width * 4, tmsize_t(expected))
                }
                guard read == expected else { throw refuse("strip \(strip) (rows \(strip * rowsPerStrip)…) cannot be read: truncated or corrupt") }
            }
        }
        return Raster(
            width: width, height: height, values: values, pixelScale: (scale[0], scale[1]), tiepoint: (tie[0], tie[1], tie[3], tie[4]),
            modelType: modelType, rasterType: rasterType, angularUnits: angularUnits, noData: noData, tiled: tiled, compression: compression)
    }
}
