import Foundation
import PostgresNIO

/// Where the database is: a PostgreSQL URL given by the user, parsed into a client configuration.
///
/// Accepts `postgres://user[:password]@host[:port]/database` (also `postgresql://`) and the
/// query parameter `sslmode=disable` (the only mode Areo speaks to a local server).
public struct DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String

    public init(host: String, port: Int, username: String, password: String? = nil, database: String) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses a PostgreSQL URL.
    /// - Throws: ``StoreError`` with code `invalidDatabaseURL` naming what is wrong.
    public init(url: String) throws(StoreError) {
        guard let components = URLComponents(string: url),
              let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme)
        else {
            throw StoreError(.invalidDatabaseURL, "database URL must look like postgres://user@host:port/database")
        }
        guard let host = components.host, !host.isEmpty else {
            throw StoreError(.invalidDatabaseURL, "database URL has no host")
        }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !path.isEmpty else {
            throw StoreError(.invalidDatabaseURL, "database URL names no database")
        }
        self.host = host
        self.port = components.port ?? 5432
        self.username = components.user ?? "postgres"
        self.password = components.password
        self.database = path
    }

    /// The URL form, without the password.
    public var description: String { "postgres://\(username)@\(host):\(port)/\(database)" }

    /// The URL form with the password, for handing to a child process.
    public var url: String {
        let auth = password.map { "\(username):\($0)" } ?? username
        return "postgres://\(auth)@\(host):\(port)/\(database)"
    }

    /// The same server, another database.
    public func with(database: String) -> DatabaseLocation {
        var copy = self
        copy.database = database
        return copy
    }

    /// A PostgresNIO client configuration for this location.
    public var clientConfiguration: PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: .disable)
        configuration.options.connectTimeout = .seconds(3)
        return configuration
    }
}
