import AreoArchive
import AreoTestSupport
import Foundation
import PostgresNIO
import Testing

/// `areo product … --format dat --out FILE` as a user runs it (issue 19): the label beside a
/// renamed data file names that file, so GDAL's PDS4 driver and pds4-tools open it.
@Suite struct ProductCommandLabelTests {
    @Test func aRenamedProductIsOpenedByGDALAndPDS4ToolsThroughItsLabel() async throws {
        let python = try #require(ProcessInfo.processInfo.environment["AREO_TEST_PYTHON"], "scripts/test sets AREO_TEST_PYTHON (a venv with pds4-tools)")
        let (url, drop) = try await TestDatabase.createDatabase()
        let folder = URL(fileURLWithPath: "/tmp/areo-renamed-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            try await Database.withDatabase(location: try DatabaseLocation(url: url), logger: TestDatabase.logger) { database in
                try await SampleArchive.load(into: database)
            }
            let out = folder.appendingPathComponent("rec_PAN.dat")
            let made = try TestProcess.run(TestDatabase.areoBinary, [
                "product", "5301", "projected", "--band", "PAN", "--scale", "40", "--format", "dat", "--out", out.path,
                "--database-url", url, "--log-level", "error",
            ])
            #expect(made.status == 0, "\(made.output)")
            let labelURL = folder.appendingPathComponent("rec_PAN.xml")
            let label = try String(contentsOf: labelURL, encoding: .utf8)
            #expect(label.contains("<file_name>rec_PAN.dat</file_name>"))
            let data = try Data(contentsOf: out)
            let md5 = try TestProcess.run(URL(fileURLWithPath: "/usr/bin/md5sum"), [out.path]).output.prefix(32)
            #expect(label.contains("<md5_checksum>\(md5)</md5_checksum>"), "the label's checksum is of the file written")

            // GDAL opens the product from its label alone: size, georeferencing, a pixel value.
            let info = try TestProcess.run(URL(fileURLWithPath: "/usr/bin/gdalinfo"), ["-json", labelURL.path])
            #expect(info.status == 0, "\(info.output)")
            let gdal = try #require(try JSONSerialization.jsonObject(with: Data(info.output.utf8)) as? [String: Any])
            let size = try #require(gdal["size"] as? [Int])
            let transform = try #require(gdal["geoTransform"] as? [Double])
            #expect(transform[1] == 40 && transform[5] == -40)
            let wkt = try #require((gdal["coordinateSystem"] as? [String: Any])?["wkt"] as? String)
            #expect(wkt.contains("3396190"))
            let floats = data.withUnsafeBytes { raw in (0..<data.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) } }
            #expect(floats.count == size[0] * size[1])
            let (line, sample) = (size[1] / 2, size[0] / 2)
            let located = try TestProcess.run(URL(fileURLWithPath: "/usr/bin/gdallocationinfo"), ["-valonly", labelURL.path, String(sample), String(line)])
            #expect(Float(located.output.trimmingCharacters(in: .whitespacesAndNewlines)) == floats[line * size[0] + sample])

            // pds4-tools (the PDS's reader) finds the same array and values.
            let reader = TestDatabase.repositoryRoot.appendingPathComponent("scripts/python/pds4_read.py").path
            let read = try TestProcess.run(URL(fileURLWithPath: python), [reader, labelURL.path, "\(line),\(sample)"])
            #expect(read.status == 0, "\(read.output)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(read.output.utf8)) as? [String: Any])
            #expect(json["shape"] as? [Int] == [size[1], size[0]])
            #expect((json["values"] as? [Double])?.first.map { Float($0) } == floats[line * size[0] + sample])
        } catch {
            try? await drop()
            throw error
        }
        try await drop()
    }
}
