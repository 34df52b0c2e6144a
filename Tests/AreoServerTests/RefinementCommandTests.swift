import AreoArchive
import AreoTestSupport
import Foundation
import Testing

/// The refinement as an operator runs it (ICD §12): `areo refmap load`, `areo geometry refine`,
/// `areo geometry refinements`, `areo report timing`, on tiny-terrain with its predicted kernel.
@Suite struct RefinementCommandTests {
    @Test func theCommandsRefineListAndReportTheTiming() async throws {
        let (url, drop) = try await TestDatabase.createDatabase()
        do {
            try await Database.withDatabase(location: try DatabaseLocation(url: url), logger: TestDatabase.logger) { database in
                try await SampleArchive.load(SampleArchive.tinyTerrain, kernel: "predicted", into: database)
            }
            func areo(_ arguments: [String]) throws -> (status: Int32, output: String) {
                try TestProcess.run(TestDatabase.areoBinary, arguments + ["--database-url", url, "--log-level", "error"])
            }
            // Without control: refused, exit status 2, the reason printed.
            let refused = try areo(["geometry", "refine", "5500"])
            #expect(refused.status == 2, "\(refused.output)")
            #expect(refused.output.contains("REFUSED — no control"), "\(refused.output)")
            // A broken file is refused naming the rule; the map loads.
            let broken = try areo(["refmap", "load", SampleArchive.tinyTerrain.appendingPathComponent("plans.plan.jsonl").path])
            #expect(broken.status != 0)
            #expect(broken.output.contains("plans.plan.jsonl"), "\(broken.output)")
            let loaded = try areo(["refmap", "load", SampleArchive.tinyTerrain.appendingPathComponent("refmap/ctx-like-mosaic.tif").path])
            #expect(loaded.status == 0, "\(loaded.output)")
            #expect(loaded.output.contains("ctx-like-mosaic: PAN I/F"))
            let refined = try areo(["geometry", "refine", "5500"])
            #expect(refined.status == 0, "\(refined.output)")
            #expect(refined.output.contains("refined-5500-r"), "\(refined.output)")
            let list = try areo(["geometry", "refinements", "--observation", "5500", "--json"])
            let records = try #require(try JSONSerialization.jsonObject(with: Data(list.output.utf8)) as? [[String: Any]], "\(list.output)")
            #expect(records.count == 2)
            #expect(records.first?["accepted"] as? Bool == true)
            let timing = try areo(["report", "timing"])
            #expect(timing.status == 0)
            #expect(timing.output.contains("predi-5: offset -0."), "\(timing.output)")
            #expect(try areo(["geometry", "refinements", "--limit", "0"]).status != 0)
        } catch {
            try await drop()
            throw error
        }
        try await drop()
    }
}
