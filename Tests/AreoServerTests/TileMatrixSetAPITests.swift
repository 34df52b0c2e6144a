import AreoArchive
import AreoServer
import AreoTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// `/v1/tiles` and `/v1/tiles/{tms}`: the OGC tile matrix set documents, to anyone, and 404 for
/// a set Areo does not have.
@Suite struct TileMatrixSetAPITests {
    @Test func theSetsAreListedAndEachIsAnOGCDocument() async throws {
        // No database is needed (nor reached): the sets are the server's own.
        let database = Database(location: DatabaseLocation(host: "127.0.0.1", port: 1, username: "x", database: "x"), logger: TestDatabase.logger)
        let cache = ServerTestSupport.temporaryDirectory("tms-cache")
        defer { try? FileManager.default.removeItem(at: cache) }
        let configuration = ServerConfiguration(cacheDirectory: cache.path)
        let delivery = try await AreoServer.makeDelivery(configuration: configuration, database: database, logger: TestDatabase.logger)
        let app = Application(router: AreoServer.makeRouter(configuration: configuration, database: database, delivery: delivery, migrations: []))
        do {
            try await app.test(.router) { client in
                try await client.execute(uri: "/v1/tiles", method: .get) { response in
                    #expect(response.status == .ok)
                    let listing = try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any])
                    let sets = try #require(listing["tileMatrixSets"] as? [[String: Any]])
                    #expect(sets.compactMap { $0["id"] as? String } == ["mars-eqc", "mars-north-stere", "mars-south-stere"])
                }
                try await client.execute(uri: "/v1/tiles/mars-eqc", method: .get) { response in
                    #expect(response.status == .ok)
                    let document = try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any])
                    let matrices = try #require(document["tileMatrices"] as? [[String: Any]])
                    #expect(matrices.count == 15)
                    #expect(matrices.last?["matrixWidth"] as? Int == 32_768 && matrices.last?["matrixHeight"] as? Int == 16_384)
                    #expect(abs((matrices.last?["cellSize"] as? Double ?? 0) - 2.544) < 0.001)
                }
                try await client.execute(uri: "/v1/tiles/WebMercatorQuad", method: .get) { response in
                    #expect(response.status == .notFound)
                    #expect(response.headers[.contentType] == "application/problem+json")
                }
            }
        }
    }
}
