import AreoArchive
import PostgresNIO
import Testing

/// Dynamic statements are composed of fragments whose values stay bound, numbered in order.
@Suite struct SQLFragmentTests {
    @Test func fragmentsComposeAndNumberTheirBindsInOrder() {
        let hostile = "x'); DROP TABLE plans; --"
        let conditions: [SQLFragment] = ["target = \(hostile)", "start_sclk <= \(720_000_400.0) AND end_sclk >= \(720_000_000.0)", "\(unescaped: "planned")"]
        let filter: SQLFragment = "WHERE \(SQLFragment.joined(conditions, separator: " AND "))"
        let query = ("SELECT count(*) FROM observation_catalog \(filter) LIMIT \(10)" as SQLFragment).query
        #expect(query.sql == "SELECT count(*) FROM observation_catalog WHERE target = $1 AND start_sclk <= $2 AND end_sclk >= $3 AND planned LIMIT $4")
        #expect(query.binds.count == 4)
        #expect(!query.sql.contains("DROP"), "a value never becomes text")
        #expect(SQLFragment.joined([], separator: " AND ").query.sql.isEmpty)
    }
}
