import AreoCodecs
import AreoTestSupport
import Foundation
import Testing

/// GeoTIFF through libtiff, checked against GDAL: the sample shape models (tifffile, Deflate,
/// tiled), GDAL's own variants (strips, tiles, predictors, no-data) and broken files.
@Suite struct GeoTIFFTests {
    static var dem: URL { TestDatabase.samplesDirectory.appendingPathComponent("tiny-terrain/dem") }

    static func gdal(_ tool: String, _ arguments: [String]) throws -> String {
        let result = try TestProcess.run(URL(fileURLWithPath: "/usr/bin/\(tool)"), arguments)
        try #require(result.status == 0, "\(tool) \(arguments): \(result.output)")
        return result.output
    }

    /// GDAL's value of pixel (column, row).
    static func gdalValue(_ path: String, _ column: Int, _ row: Int) throws -> Double {
        try #require(Double(try gdal("gdallocationinfo", ["-valonly", path, String(column), String(row)]).trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    static func directory() -> URL {
        let url = URL(fileURLWithPath: "/tmp/areo-geotiff-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func theSampleShapeModelsReadAsGDALReadsThem() throws {
        for name in ["hrsc-like-fine.dem.tif", "mola-like-coarse.dem.tif"] {
            let path = Self.dem.appendingPathComponent(name).path
            let raster = try GeoTIFF.readFloat32(path: path)
            let info = try Self.gdal("gdalinfo", ["-json", path])
            let json = try #require(try JSONSerialization.jsonObject(with: Data(info.utf8)) as? [String: Any])
            let size = try #require(json["size"] as? [Int])
            #expect([raster.width, raster.height] == size)
            let transform = try #require(json["geoTransform"] as? [Double])
            #expect(abs(raster.tiepoint.x - transform[0]) < 1e-12 && abs(raster.tiepoint.y - transform[3]) < 1e-12)
            #expect(abs(raster.pixelScale.x - transform[1]) < 1e-15 && abs(raster.pixelScale.y + transform[5]) < 1e-15)
            #expect(raster.modelType == 2 && raster.rasterType == 1)
            for (c, r) in [(0, 0), (raster.width - 1, 0), (raster.width / 2, raster.height / 3), (raster.width - 1, raster.height - 1), (7, raster.height - 2)] {
                #expect(Double(raster.values[r * raster.width + c]) == (try Self.gdalValue(path, c, r)), "\(name) pixel \(c), \(r)")
            }
        }
    }

    @Test func stripsTilesPredictorsAndNoDataAsGDALWritesThem() throws {
        let work = Self.directory()
        defer { try? FileManager.default.removeItem(at: work) }
        let source = Self.dem.appendingPathComponent("mola-like-coarse.dem.tif").path
        let reference = try GeoTIFF.readFloat32(path: source)
        let variants: [(String, [String])] = [
            ("strips-none", ["-co", "TILED=NO", "-co", "COMPRESS=NONE", "-co", "BLOCKYSIZE=7"]),
            ("strips-deflate", ["-co", "TILED=NO", "-co", "COMPRESS=DEFLATE", "-co", "PREDICTOR=2"]),
            ("tiles-deflate-float-predictor", ["-co", "TILED=YES", "-co", "BLOCKXSIZE=16", "-co", "BLOCKYSIZE=32", "-co", "COMPRESS=DEFLATE", "-co", "PREDICTOR=3"]),
            ("tiles-none", ["-co", "TILED=YES", "-co", "COMPRESS=NONE"]),
        ]
        for (name, options) in variants {
            let path = work.appendingPathComponent("\(name).tif").path
            _ = try Self.gdal("gdal_translate", ["-q"] + options + [source, path])
            let raster = try GeoTIFF.readFloat32(path: path)
            #expect(raster.values == reference.values, "\(name)")
            #expect(raster.tiled == name.hasPrefix("tiles"))
        }
        let withNoData = work.appendingPathComponent("nodata.tif").path
        _ = try Self.gdal("gdal_translate", ["-q", "-a_nodata", "-32768", source, withNoData])
        #expect(try GeoTIFF.readFloat32(path: withNoData).noData == -32768)
    }

    @Test func brokenFilesAreRefusedNamingTheFileAndTheRule() throws {
        let work = Self.directory()
        defer { try? FileManager.default.removeItem(at: work) }
        let source = Self.dem.appendingPathComponent("mola-like-coarse.dem.tif").path
        func refusal(_ path: String) -> String {
            do { _ = try GeoTIFF.readFloat32(path: path); return "accepted" } catch { return error.description }
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: source))
        let truncated = work.appendingPathComponent("truncated.dem.tif")
        try bytes.prefix(bytes.count * 2 / 3).write(to: truncated)
        #expect(refusal(truncated.path).contains("truncated.dem.tif") && refusal(truncated.path).contains("cannot be read"), "\(refusal(truncated.path))")
        let garbage = work.appendingPathComponent("garbage.dem.tif")
        try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 37) }).write(to: garbage)
        #expect(refusal(garbage.path).contains("not a TIFF"))
        let cases: [(String, [String], String)] = [
            ("int16", ["-ot", "Int16"], "32-bit IEEE float"),
            ("two-bands", ["-b", "1", "-b", "1"], "one band"),
            ("baseline", ["-co", "PROFILE=BASELINE"], "ModelPixelScaleTag"),
            ("lzw", ["-co", "COMPRESS=LZW"], "Compression"),
        ]
        for (name, options, rule) in cases {
            let path = work.appendingPathComponent("\(name).tif").path
            _ = try Self.gdal("gdal_translate", ["-q"] + options + [source, path])
            let message = refusal(path)
            #expect(message.contains("\(name).tif") && message.contains(rule), "\(name): \(message)")
        }
        #expect(refusal(work.appendingPathComponent("absent.tif").path).contains("cannot be read"))
    }
}
