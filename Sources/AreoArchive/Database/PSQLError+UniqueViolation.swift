import PostgresNIO

extension PSQLError {
    /// The server refused a row because it broke a unique constraint (SQLSTATE 23505).
    public var isUniqueViolation: Bool { serverInfo?[.sqlState] == "23505" }
}
