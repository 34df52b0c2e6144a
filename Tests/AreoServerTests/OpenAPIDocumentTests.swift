import AreoServer
import AreoArchive
import AreoTestSupport
import Foundation
import Hummingbird
import Logging
import Testing

/// docs/openapi.yaml describes exactly the routes the server has.
@Suite struct OpenAPIDocumentTests {
    /// "METHOD /path" for every operation under `paths:` (two-space path keys, four-space methods).
    static func documentedOperations() throws -> Set<String> {
        let text = try String(contentsOf: TestDatabase.repositoryRoot.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        var operations = Set<String>()
        var inPaths = false
        var path: String? = nil
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" { inPaths = true; continue }
            if inPaths, !line.hasPrefix(" "), !line.isEmpty { break }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), !line.hasPrefix("   ") { path = String(line.dropFirst(2).dropLast()) }
            for method in ["get", "post", "put", "delete", "patch"] where line == "    \(method):" {
                if let path { operations.insert("\(method.uppercased()) \(path)") }
            }
        }
        return operations
    }

    @Test func everyRouteIsDocumentedAndNothingElse() async throws {
        let database = Database(location: DatabaseLocation(host: "127.0.0.1", port: 1, username: "x", database: "x"), logger: TestDatabase.logger)
        let cache = ServerTestSupport.temporaryDirectory("openapi-cache")
        defer { try? FileManager.default.removeItem(at: cache) }
        let configuration = ServerConfiguration(cacheDirectory: cache.path)
        let delivery = try await AreoServer.makeDelivery(configuration: configuration, database: database, logger: TestDatabase.logger)
        let router = AreoServer.makeRouter(configuration: configuration, database: database, delivery: delivery, migrations: [])
        let routes = Set(router.routes.map { "\($0.method.rawValue) \($0.path.description.hasPrefix("/") ? "" : "/")\($0.path)" })
        let documented = try Self.documentedOperations()
        #expect(!documented.isEmpty)
        #expect(routes == documented, "undocumented: \(routes.subtracting(documented)); not served: \(documented.subtracting(routes))")
    }
}
