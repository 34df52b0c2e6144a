import AreoArchive
import AreoGeometry
import AreoTestSupport
import Foundation
import Testing

/// Shape models through the one load path: stored whole with their digest, listed finest first,
/// the same file again is no change, other content under a held id is refused unless replaced, and
/// a file that breaks the ICD stores nothing.
@Suite struct ShapeModelLoadTests {
    static var dem: URL { TestDatabase.samplesDirectory.appendingPathComponent("tiny-terrain/dem") }

    @Test func shapeModelsAreStoredOnceAndReplacedOnlyOnRequest() async throws {
        try await TestDatabase.withFreshDatabase { database in
            let logger = TestDatabase.logger
            try await MigrationRunner(client: database.client, logger: logger).migrate(try Migration.load(from: TestDatabase.migrationsDirectory))
            let loads = ArchiveLoads(database: database, logger: logger)
            let repository = ShapeModelRepository(database: database, logger: logger)
            for name in ["mola-like-coarse.dem.tif", "hrsc-like-fine.dem.tif"] {
                _ = try await loads.shapeModel(path: Self.dem.appendingPathComponent(name).path, file: name)
            }
            let listed = try await repository.list()
            #expect(listed.map(\.demID) == ["hrsc-like-fine", "mola-like-coarse"], "finest first")
            #expect(listed.allSatisfy { $0.sha256.count == 64 })
            let fine = try #require(listed.first)
            #expect(fine.width == 929 && fine.height == 618 && abs(fine.west - 35.010893028150925) < 1e-12)

            // The same file again changes nothing.
            _ = try await loads.shapeModel(path: Self.dem.appendingPathComponent("hrsc-like-fine.dem.tif").path, file: "again")
            #expect(try await repository.list() == listed)

            // Other content under a held id: refused, then replaced on request.
            let work = URL(fileURLWithPath: "/tmp/areo-dem-load-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: work) }
            let other = work.appendingPathComponent("other.dem.tif")
            try FileManager.default.copyItem(at: Self.dem.appendingPathComponent("mola-like-coarse.dem.tif"), to: other)
            try Data(#"{"dem_id": "hrsc-like-fine", "produced": "2026-10-01T00:00:00Z", "resolution_m": 46.3}"#.utf8)
                .write(to: URL(fileURLWithPath: other.path + ".json"))
            await #expect(throws: InputConflict.self) { _ = try await loads.shapeModel(path: other.path, file: "other.dem.tif") }
            #expect(try await repository.list() == listed)
            _ = try await loads.shapeModel(path: other.path, file: "other.dem.tif", replace: true)
            let replaced = try #require(try await repository.list().first { $0.demID == "hrsc-like-fine" })
            #expect(replaced.sha256 != fine.sha256 && replaced.width == 93 && replaced.sourceFile == "other.dem.tif")

            // A file that breaks the ICD: the error names it and the rule; nothing is stored.
            let broken = work.appendingPathComponent("broken.dem.tif")
            try Data(try Data(contentsOf: other).prefix(300)).write(to: broken)
            try Data(#"{"dem_id": "broken", "produced": "2026-10-01T00:00:00Z", "resolution_m": 10}"#.utf8).write(to: URL(fileURLWithPath: broken.path + ".json"))
            let error = await #expect(throws: ShapeModelError.self) { _ = try await loads.shapeModel(path: broken.path, file: "broken.dem.tif") }
            #expect(error?.description.hasPrefix("broken.dem.tif: ") == true, "\(error?.description ?? "")")
            #expect(try await repository.list().map(\.demID).sorted() == ["hrsc-like-fine", "mola-like-coarse"])
        }
    }
}
