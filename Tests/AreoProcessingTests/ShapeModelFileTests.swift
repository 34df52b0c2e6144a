import AreoGeometry
import AreoProcessing
import AreoTestSupport
import Foundation
import Testing

/// Shape model files as the ICD delivers them (§11): GeoTIFF and side file, the sample models,
/// and files that break a rule of it.
@Suite struct ShapeModelFileTests {
    static var dem: URL { TestDatabase.samplesDirectory.appendingPathComponent("tiny-terrain/dem") }

    @Test func theSampleModelsAndTheirSideFiles() throws {
        let fine = try ShapeModelFile.read(path: Self.dem.appendingPathComponent("hrsc-like-fine.dem.tif").path)
        let coarse = try ShapeModelFile.read(path: Self.dem.appendingPathComponent("mola-like-coarse.dem.tif").path)
        #expect(fine.id == "hrsc-like-fine" && fine.resolution == 46.3 && coarse.id == "mola-like-coarse" && coarse.resolution == 463)
        #expect(fine.produced > coarse.produced)
        // Where both cover, the fine one applies; its radius is a plausible Mars radius.
        let lat = (fine.north + fine.south) / 2, lon = (fine.west + fine.east) / 2
        let applicable = try #require(ShapeModel.applicable([coarse, fine], latitude: lat, longitude: lon))
        #expect(applicable.model.id == "hrsc-like-fine")
        #expect(ShapeModel.plausibleRadii.contains(applicable.radius))
        // The two models describe the same terrain: they agree to within the coarse one's smoothing.
        let difference = abs(applicable.radius - (coarse.radius(latitude: lat, longitude: lon) ?? .nan))
        #expect(difference < 1_000, "fine and coarse differ by \(difference) m")
    }

    @Test func filesBreakingTheICDAreRefusedNamingTheFileAndTheRule() throws {
        let work = URL(fileURLWithPath: "/tmp/areo-dem-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let source = Self.dem.appendingPathComponent("mola-like-coarse.dem.tif")
        func copy(_ name: String, side: String?) throws -> String {
            let path = work.appendingPathComponent(name)
            try? FileManager.default.removeItem(at: path)
            try FileManager.default.copyItem(at: source, to: path)
            if let side { try Data(side.utf8).write(to: URL(fileURLWithPath: path.path + ".json")) }
            return path.path
        }
        func refusal(_ path: String) -> String {
            do { _ = try ShapeModelFile.read(path: path); return "accepted" } catch { return error.description }
        }
        let goodSide = #"{"dem_id": "m1", "produced": "2026-09-01T00:00:00Z", "resolution_m": 463}"#
        #expect(refusal(try copy("ok.dem.tif", side: goodSide)) == "accepted")
        #expect(refusal(try copy("no-side.dem.tif", side: nil)).contains("side file no-side.dem.tif.json is missing"))
        #expect(refusal(try copy("bad-json.dem.tif", side: "{")).contains("bad-json.dem.tif.json"))
        #expect(refusal(try copy("bad-date.dem.tif", side: #"{"dem_id": "m", "produced": "yesterday", "resolution_m": 1}"#)).contains("ISO 8601"))
        #expect(refusal(try copy("bad-id.dem.tif", side: #"{"dem_id": "a/b", "produced": "2026-09-01T00:00:00Z", "resolution_m": 1}"#)).contains("dem_id"))
        #expect(refusal(try copy("zero-res.dem.tif", side: #"{"dem_id": "m", "produced": "2026-09-01T00:00:00Z", "resolution_m": 0}"#)).contains("resolution_m"))
        // Pixel-is-point georeferencing (GDAL writes it on request) is not the ICD's.
        let point = work.appendingPathComponent("point.dem.tif").path
        let result = try TestProcess.run(URL(fileURLWithPath: "/usr/bin/gdal_translate"), ["-q", "-mo", "AREA_OR_POINT=Point", source.path, point])
        try #require(result.status == 0, "\(result.output)")
        try Data(goodSide.utf8).write(to: URL(fileURLWithPath: point + ".json"))
        #expect(refusal(point).contains("point.dem.tif") && refusal(point).contains("pixel-is-area"), "\(refusal(point))")
    }
}
