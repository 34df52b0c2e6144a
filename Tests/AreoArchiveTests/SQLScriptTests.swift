import AreoArchive
import AreoTestSupport
import Testing

@Suite struct SQLScriptTests {
    @Test func splitsOnSemicolonsOutsideQuotesAndComments() {
        let script = SQLScript("""
            -- a comment; with a semicolon
            CREATE TABLE a (x text DEFAULT 'it''s; fine');
            /* block; comment */
            CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;
            INSERT INTO "odd;name" VALUES ($$;$$)
            """)
        #expect(script.statements.map(\.text) == [
            "CREATE TABLE a (x text DEFAULT 'it''s; fine')",
            "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql",
            "INSERT INTO \"odd;name\" VALUES ($$;$$)",
        ])
        #expect(script.statements.map(\.line) == [2, 4, 5])
    }

    @Test func positionalParametersAreNotDollarQuotes() {
        let script = SQLScript("SELECT $1; SELECT 2")
        #expect(script.statements.map(\.text) == ["SELECT $1", "SELECT 2"])
    }
}
