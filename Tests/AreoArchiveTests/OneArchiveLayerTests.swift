import AreoTestSupport
import Foundation
import Testing

/// Every table has one owner module: no file outside `Sources/AreoArchive` holds a SQL
/// statement (the same rule `scripts/architecture --check` applies, here so `swift test` fails).
@Suite struct OneArchiveLayerTests {
    /// A statement as Areo writes SQL (keywords in capitals) inside a string literal.
    static let statementPattern = (#"\b(SELECT\s+[\w*(]|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|DATABASE|INDEX)|DROP\s+(TABLE|DATABASE)|VACUUM|COPY\s+\w+\s*[(]|COPY\s+\w+\s+FROM)"#)
    static let literalPattern = (#"(?s)"""(.*?)"""|"((?:[^"\\\n]|\\.)*)""#)

    static func filesWithSQL(under directory: URL) throws -> [String] {
        let statement = try Regex(statementPattern), literal = try Regex(literalPattern)
        var found: [String] = []
        let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)
        while let url = files?.nextObject() as? URL {
            guard url.pathExtension == "swift" else { continue }
            let text = try String(contentsOf: url, encoding: .utf8)
            if text.matches(of: literal).contains(where: { String(text[$0.range]).contains(statement) }) {
                found.append(url.path.replacingOccurrences(of: TestDatabase.repositoryRoot.path + "/", with: ""))
            }
        }
        return found.sorted()
    }

    @Test func noSQLOutsideTheArchiveModule() throws {
        let sources = TestDatabase.repositoryRoot.appendingPathComponent("Sources")
        let modules = try FileManager.default.contentsOfDirectory(atPath: sources.path).filter { !$0.hasPrefix(".") }
        #expect(modules.contains("AreoArchive"))
        var outside: [String] = []
        for module in modules where module != "AreoArchive" {
            outside += try Self.filesWithSQL(under: sources.appendingPathComponent(module))
        }
        #expect(outside.isEmpty, "SQL outside AreoArchive: \(outside)")
        // The rule can fail: the archive's own files are found by it.
        let inside = try Self.filesWithSQL(under: sources.appendingPathComponent("AreoArchive"))
        #expect(inside.contains { $0.hasSuffix("ObservationCatalog.swift") })
        #expect(inside.count >= 10)
    }
}
