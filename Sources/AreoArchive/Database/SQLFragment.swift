import PostgresNIO

/// A piece of a SQL statement with its bound values, written as a string interpolation
/// (`"start_sclk <= \(upper)"` binds `upper`), so dynamic queries are composed of fragments —
/// joined, nested, made conditional — and never number `$n` placeholders by hand. Only
/// `\(unescaped:)` inserts text, for constants of Areo's own schema.
public struct SQLFragment: ExpressibleByStringInterpolation, Sendable {
    enum Part: Sendable {
        case sql(String)
        case bind(@Sendable (inout PostgresQuery.StringInterpolation) -> Void)
    }

    var parts: [Part]

    public struct StringInterpolation: StringInterpolationProtocol {
        var parts: [Part] = []
        public init(literalCapacity: Int, interpolationCount: Int) {}
        public mutating func appendLiteral(_ literal: String) { parts.append(.sql(literal)) }
        /// A bound value.
        public mutating func appendInterpolation<Value: PostgresDynamicTypeEncodable & Sendable>(_ value: Value) {
            parts.append(.bind { $0.appendInterpolation(value) })
        }
        /// Another fragment, with its binds.
        public mutating func appendInterpolation(_ fragment: SQLFragment) { parts += fragment.parts }
        /// Text of Areo's own schema (column lists, constant conditions): never a value from outside.
        public mutating func appendInterpolation(unescaped text: String) { parts.append(.sql(text)) }
    }

    public init(stringInterpolation: StringInterpolation) { parts = stringInterpolation.parts }
    public init(stringLiteral value: String) { parts = [.sql(value)] }

    /// `fragments` with `separator` between them (empty when there are none).
    public static func joined(_ fragments: [SQLFragment], separator: String) -> SQLFragment {
        var parts: [Part] = []
        for (index, fragment) in fragments.enumerated() {
            if index > 0 { parts.append(.sql(separator)) }
            parts += fragment.parts
        }
        return SQLFragment(parts: parts)
    }

    init(parts: [Part]) { self.parts = parts }

    /// The statement, its binds numbered by PostgresNIO in order.
    public var query: PostgresQuery {
        var interpolation = PostgresQuery.StringInterpolation(literalCapacity: 0, interpolationCount: parts.count)
        for part in parts {
            switch part {
            case .sql(let text): interpolation.appendLiteral(text)
            case .bind(let bind): bind(&interpolation)
            }
        }
        return PostgresQuery(stringInterpolation: interpolation)
    }
}
