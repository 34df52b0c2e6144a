import AreoExport
import AreoProducts
import AreoArchive
import AreoTestSupport
import Foundation
import PostgresNIO
import Testing

/// PDS4 deliveries of the tiny-clean sample, opened with the PDS's own pds4-tools (PyPI) and with
/// GDAL's PDS4 driver (Debian gdal-bin), checked with xmllint, versioned and verified.
@Suite(.serialized) struct PDS4ExportTests {
    static func directory(_ name: String) -> URL {
        URL(fileURLWithPath: "/tmp/areo-export-\(name)-\(UUID().uuidString.prefix(8))")
    }

    static func run(_ tool: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try TestProcess.run(URL(fileURLWithPath: tool), arguments)
    }

    static func floats(_ url: URL) throws -> [Float] {
        let data = try Data(contentsOf: url)
        return data.withUnsafeBytes { raw in (0..<data.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) } }
    }

    /// `<tag>value</tag>` of a label (first occurrence).
    static func value(_ tag: String, in label: String) -> String? {
        guard let start = label.range(of: "<\(tag)")?.upperBound, let close = label[start...].range(of: ">")?.upperBound,
              let end = label[close...].range(of: "</\(tag)>")?.lowerBound else { return nil }
        return String(label[close..<end])
    }

    @Test func bundlesThatPDSToolsAndGDALReadVersionedAndVerified() async throws {
        let python = try #require(ProcessInfo.processInfo.environment["AREO_TEST_PYTHON"], "scripts/test sets AREO_TEST_PYTHON (a venv with pds4-tools)")
        try await TestDatabase.withFreshDatabase { database in
            try await SampleArchive.load(into: database)
            let out = Self.directory("first")
            defer { try? FileManager.default.removeItem(at: out) }
            var options = BundleExporter.Options(directory: out)
            options.observations = [5301, 5302]
            options.scale = 40
            let first = try await BundleExporter(database: database, logger: TestDatabase.logger).export(options)
            // 4 bands × (raw, calibrated, projected) + the composite + 1 browse, for each of the two observations.
            #expect(first.products.count == 28)
            #expect(first.products.allSatisfy { $0.status == "new" && $0.lidvid.hasSuffix("::1.0") })
            #expect(try DeliveryManifest.verify(out).isEmpty)

            // Every label is well-formed XML.
            let labels = try FileManager.default.subpathsOfDirectory(atPath: out.path).filter { $0.hasSuffix(".xml") }
            // products, collection labels (raw, calibrated, projected, browse), document collection, document, bundle
            let expectedLabels = 35
            #expect(labels.count == expectedLabels)
            let lint = try Self.run("/usr/bin/xmllint", ["--noout"] + labels.map { out.appendingPathComponent($0).path })
            #expect(lint.status == 0, "\(lint.output)")

            // pds4-tools reads the arrays Areo wrote: same dimensions and values.
            let reader = TestDatabase.repositoryRoot.appendingPathComponent("scripts/python/pds4_read.py").path
            for (collection, name) in [("data_calibrated", "5301-calibrated-PAN"), ("data_projected", "5301-projected-PAN-40m"), ("data_raw", "5302-raw-NIR")] {
                let folder = out.appendingPathComponent("\(collection)/\(name.prefix(4))")
                let label = try String(contentsOf: folder.appendingPathComponent("\(name).xml"), encoding: .utf8)
                let lines = try #require(Int(Self.value("elements", in: label) ?? ""))
                let samples = try #require(label.components(separatedBy: "<elements>").dropFirst(2).first.flatMap { Int($0.prefix { $0.isNumber }) })
                let data = try Self.floats(folder.appendingPathComponent("\(name).dat"))
                #expect(data.count == lines * samples)
                let places = [(lines / 2, samples / 2), (3, 5), (lines - 1, samples - 1)]
                let result = try Self.run(python, [reader, folder.appendingPathComponent("\(name).xml").path] + places.map { "\($0.0),\($0.1)" })
                #expect(result.status == 0, "\(result.output)")
                let json = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
                #expect(json["shape"] as? [Int] == [lines, samples])
                #expect(json["type"] as? String == "IEEE754LSBSingle")
                #expect(json["vid"] as? String == "1.0")
                let values = try #require(json["values"] as? [Double])
                for (place, value) in zip(places, values) {
                    #expect(Float(value) == data[place.0 * samples + place.1], "\(name) at \(place)")
                }
            }

            // The colour composite is one Array_3D_Image (Band, Line, Sample).
            let colour = out.appendingPathComponent("data_projected/5301/5301-composite-NIR_PAN_BLU-40m.xml")
            let colourLabel = try String(contentsOf: colour, encoding: .utf8)
            #expect(colourLabel.contains("<Array_3D_Image>"))
            let colourRead = try Self.run(python, [reader, colour.path, "10,10"])
            let colourJSON = try #require(try JSONSerialization.jsonObject(with: Data(colourRead.output.utf8)) as? [String: Any])
            #expect((colourJSON["shape"] as? [Int])?.first == 3)

            // GDAL's PDS4 driver: the same size, pixel values and the map projection the label states.
            let projected = out.appendingPathComponent("data_projected/5301/5301-projected-PAN-40m.xml")
            let label = try String(contentsOf: projected, encoding: .utf8)
            let info = try Self.run("/usr/bin/gdalinfo", ["-json", projected.path])
            #expect(info.status == 0, "\(info.output)")
            let gdal = try #require(try JSONSerialization.jsonObject(with: Data(info.output.utf8)) as? [String: Any])
            let size = try #require(gdal["size"] as? [Int])
            let lines = try #require(Int(Self.value("elements", in: label) ?? ""))
            #expect(size[1] == lines)
            let wkt = try #require((gdal["coordinateSystem"] as? [String: Any])?["wkt"] as? String)
            #expect(wkt.contains("Equidistant Cylindrical") || wkt.contains("Equirectangular"))
            #expect(wkt.contains("3396190"))
            let transform = try #require(gdal["geoTransform"] as? [Double])
            #expect(transform[0] == Double(Self.value("cart:upperleft_corner_x", in: label) ?? ""))
            #expect(transform[3] == Double(Self.value("cart:upperleft_corner_y", in: label) ?? ""))
            #expect(transform[1] == 40 && transform[5] == -40)
            let projectedData = try Self.floats(projected.deletingPathExtension().appendingPathExtension("dat"))
            for (line, sample) in [(lines / 2, size[0] / 2), (lines / 3, size[0] / 4)] {
                let located = try Self.run("/usr/bin/gdallocationinfo", ["-valonly", projected.path, String(sample), String(line)])
                let gdalValue = try #require(Double(located.output.trimmingCharacters(in: .whitespacesAndNewlines)), "\(located.output)")
                #expect(Float(gdalValue) == projectedData[line * size[0] + sample])
            }
            let parallel = try #require(Double(Self.value("cart:standard_parallel_1", in: label) ?? ""))
            #expect(wkt.contains("PARAMETER[\"Latitude of 1st standard parallel\",\(Int(parallel))") || wkt.contains("\(parallel)"))

            // Reprocessing with a newer kernel: the next incremental delivery has a new version of
            // exactly the products that depend on geometry; decoded DN are unchanged and not sent.
            try await SampleArchive.loadKernel("reconstructed", into: database)
            let second = Self.directory("second")
            defer { try? FileManager.default.removeItem(at: second) }
            var incremental = BundleExporter.Options(directory: second)
            incremental.observations = [5301, 5302]
            incremental.scale = 40
            incremental.incremental = true
            let revised = try await BundleExporter(database: database, logger: TestDatabase.logger).export(incremental)
            #expect(revised.products.count == 20)  // calibrated, projected per band, the composite, and browse
            #expect(revised.products.allSatisfy { $0.status == "revised" && $0.lidvid.hasSuffix("::2.0") })
            #expect(!revised.products.contains { $0.lidvid.contains(":data_raw:") })
            let revisedLabel = try String(contentsOf: second.appendingPathComponent("data_projected/5301/5301-projected-PAN-40m.xml"), encoding: .utf8)
            #expect(revisedLabel.contains("<version_id>2.0</version_id>"))
            #expect(revisedLabel.contains("recon-3"))
            // The incremental delivery's inventories list the whole current version of each
            // collection: the unchanged decoded DN (1.0, delivered before) and the revised rest (2.0 only).
            let rawInventory = try String(contentsOf: second.appendingPathComponent("data_raw/collection_data_raw_inventory.csv"), encoding: .utf8)
            #expect(rawInventory.split(separator: "\r\n").count == 8)
            #expect(rawInventory.contains("P,urn:esa:psa:areo:data_raw:5301_raw_pan::1.0"))
            let projectedInventory = try String(contentsOf: second.appendingPathComponent("data_projected/collection_data_projected_inventory.csv"), encoding: .utf8)
            #expect(projectedInventory.contains("5301_projected_pan_40m::2.0") && !projectedInventory.contains("5301_projected_pan_40m::1.0"))
            let bundleLabel = try String(contentsOf: second.appendingPathComponent("bundle_areo.xml"), encoding: .utf8)
            #expect(bundleLabel.contains("urn:esa:psa:areo:data_raw::"), "the unchanged collection is still a member of the bundle")
            #expect(try DeliveryManifest.verify(second).isEmpty)
            // verify notices an inventory that drops a delivered product.
            let inventoryURL = second.appendingPathComponent("data_projected/collection_data_projected_inventory.csv")
            try Data(projectedInventory.replacingOccurrences(of: "P,urn:esa:psa:areo:data_projected:5301_projected_pan_40m::2.0\r\n", with: "").utf8).write(to: inventoryURL)
            #expect(DeliveryManifest.verifyInventories(second, labels: ["data_projected/5301/5301-projected-PAN-40m.xml"])
                .contains { $0.rule.contains("does not list urn:esa:psa:areo:data_projected:5301_projected_pan_40m::2.0") })
            try Data(projectedInventory.utf8).write(to: inventoryURL)

            // Nothing new since: an incremental export says so.
            await #expect(throws: ExportError.self) {
                try await BundleExporter(database: database, logger: TestDatabase.logger).export(incremental)
            }

            // export verify catches a changed byte and a missing file.
            let dat = second.appendingPathComponent("data_calibrated/5302/5302-calibrated-BLU.dat")
            var bytes = try Data(contentsOf: dat)
            bytes[100] ^= 0x01
            try bytes.write(to: dat)
            try FileManager.default.removeItem(at: second.appendingPathComponent("browse/5301/5301-composite-NIR_PAN_BLU-40m.png"))
            let problems = try DeliveryManifest.verify(second)
            #expect(problems.contains { $0.path == "data_calibrated/5302/5302-calibrated-BLU.dat" && $0.rule.contains("MD5") })
            #expect(problems.contains { $0.path.hasSuffix("5301-composite-NIR_PAN_BLU-40m.png") && $0.rule.contains("missing") })
        }
    }

    @Test func incompleteObservationsAreRefusedUnlessForced() async throws {
        try await TestDatabase.withFreshDatabase { database in
            try await SampleArchive.load(into: database)
            try await database.client.query("UPDATE observation_catalog SET status = 'partial' WHERE observation_id = 5302", logger: TestDatabase.logger)
            let out = Self.directory("refused")
            defer { try? FileManager.default.removeItem(at: out) }
            var options = BundleExporter.Options(directory: out)
            options.observations = [5302]
            options.scale = 40
            await #expect(throws: ExportError.self) {
                try await BundleExporter(database: database, logger: TestDatabase.logger).export(options)
            }
            options.observations = [5301, 5302]
            let partial = try await BundleExporter(database: database, logger: TestDatabase.logger).export(options)
            #expect(partial.refused["5302"]?.contains("partial") == true)
            #expect(!partial.products.contains { $0.lidvid.contains(":5302_") })
            options.force = true
            let forced = try await BundleExporter(database: database, logger: TestDatabase.logger).export(options)
            #expect(forced.products.contains { $0.lidvid.contains(":5302_") })
        }
    }

    @Test func embargoedObservationsAreRefusedUntilTheEmbargoEndsUnlessTeamInternal() async throws {
        try await TestDatabase.withFreshDatabase { database in
            try await SampleArchive.load(into: database)
            let exporter = BundleExporter(database: database, logger: TestDatabase.logger)
            let out = Self.directory("embargo")
            defer { try? FileManager.default.removeItem(at: out) }
            var options = BundleExporter.Options(directory: out)
            options.scale = 40
            let public1 = try await exporter.export(options)
            #expect(public1.refused["5300"]?.hasPrefix("embargoed until 2099-01-01") == true, "\(public1.refused)")
            #expect(!public1.products.contains { $0.lidvid.contains(":5300_") })
            let files = try FileManager.default.subpathsOfDirectory(atPath: out.path)
            #expect(!files.contains { $0.contains("5300") }, "no byte of 5300 in a public delivery")
            #expect(!(try String(contentsOf: out.appendingPathComponent("bundle_areo.xml"), encoding: .utf8)).contains("TEAM-INTERNAL"))

            // A team-internal delivery carries it, says so, and is no release.
            let internalDelivery = Self.directory("internal")
            defer { try? FileManager.default.removeItem(at: internalDelivery) }
            var team = BundleExporter.Options(directory: internalDelivery)
            team.scale = 40
            team.observations = [5300]
            team.includeEmbargoed = true
            let teamReport = try await exporter.export(team)
            #expect(teamReport.products.contains { $0.lidvid.contains(":5300_") })
            #expect(try String(contentsOf: internalDelivery.appendingPathComponent("bundle_areo.xml"), encoding: .utf8).contains("TEAM-INTERNAL"))
            var history = 0
            for try await n in try await database.client.query("SELECT count(*) FROM exported_products WHERE lid LIKE '%:5300_%'", logger: TestDatabase.logger).decode(Int.self) {
                history = n
            }
            #expect(history == 0, "a team-internal delivery is not in the public version history")

            // Once the embargo ends, the next incremental delivery brings it, as version 1.
            try await database.client.query("UPDATE plans SET embargo_until = now() - interval '1 day' WHERE observation_id = 5300", logger: TestDatabase.logger)
            _ = try await ObservationCatalog(database: database, logger: TestDatabase.logger).refresh()
            let next = Self.directory("after-embargo")
            defer { try? FileManager.default.removeItem(at: next) }
            var incremental = BundleExporter.Options(directory: next)
            incremental.scale = 40
            try incremental.since("last")
            let released = try await exporter.export(incremental)
            #expect(released.products.contains { $0.lidvid.contains(":5300_") && $0.lidvid.hasSuffix("::1.0") })
            #expect(!released.products.contains { $0.lidvid.contains(":5301_") }, "unchanged products are not sent again")
            let inventory = try String(contentsOf: next.appendingPathComponent("data_raw/collection_data_raw_inventory.csv"), encoding: .utf8)
            #expect(inventory.contains(":5301_raw_pan::1.0") && inventory.contains(":5300_raw_pan::1.0"))
            #expect(try DeliveryManifest.verify(next).isEmpty)
        }
    }
}
