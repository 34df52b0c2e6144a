import AreoArchive
import AreoTestSupport
import Foundation
import Testing

/// `areo observation corrections` as an operator runs it on tiny-terrain: estimates where none is
/// stored for the inputs that apply, prints it, and finds it stored the second time.
@Suite struct CorrectionsCommandTests {
    @Test func theCommandEstimatesOnceAndPrints() async throws {
        let (url, drop) = try await TestDatabase.createDatabase()
        do {
            try await Database.withDatabase(location: try DatabaseLocation(url: url), logger: TestDatabase.logger) { database in
                try await SampleArchive.load(SampleArchive.tinyTerrain, kernel: "reconstructed", into: database)
            }
            func areo(_ arguments: [String]) throws -> (status: Int32, output: String) {
                try TestProcess.run(TestDatabase.areoBinary, arguments + ["--database-url", url, "--log-level", "error"])
            }
            #expect(try areo(["observation", "corrections"]).status != 0, "names no observation")
            #expect(try areo(["observation", "corrections", "5500", "--all"]).status != 0, "both")
            let first = try areo(["observation", "corrections", "5500"])
            #expect(first.status == 0, "\(first.output)")
            #expect(first.output.contains("observation 5500: mechanism offset -0.0"), "\(first.output)")
            let second = try areo(["observation", "corrections", "--all"])
            #expect(second.status == 0, "\(second.output)")
            #expect(second.output.contains("1 observation(s) have corrections"), "\(second.output)")
            #expect(try areo(["observation", "corrections", "4242"]).status != 0, "not in the archive")
            try await Database.withDatabase(location: try DatabaseLocation(url: url), logger: TestDatabase.logger) { database in
                let stored = try await ObservationCorrectionsRepository(database: database, logger: TestDatabase.logger)
                    .history(observationID: 5500, publicOnly: false, limit: 10)
                #expect(stored.count == 1, "estimated once, found the second time")
            }
        } catch {
            try await drop()
            throw error
        }
        try await drop()
    }
}
