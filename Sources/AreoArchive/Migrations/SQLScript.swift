/// Splits an SQL script into its statements.
///
/// Understands `--` and `/* */` comments, single- and double-quoted strings, and dollar-quoted
/// bodies (`$$ … $$`, `$tag$ … $tag$`), so a `;` inside any of them does not end a statement.
public struct SQLScript: Sendable {
    /// One statement and the line it starts on (1-based).
    public struct Statement: Sendable, Equatable {
        public let text: String
        public let line: Int
    }

    public let statements: [Statement]

    public init(_ source: String) {
        var statements: [Statement] = []
        let chars = Array(source.unicodeScalars)
        var current = String.UnicodeScalarView()
        var index = 0
        var line = 1
        var startLine: Int? = nil

        func flush() {
            let text = String(current).trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.isEmpty, let startLine { statements.append(Statement(text: text, line: startLine)) }
            current = String.UnicodeScalarView()
            startLine = nil
        }
        func append(_ scalar: Unicode.Scalar) {
            if startLine == nil, !scalar.properties.isWhitespace { startLine = line }
            if scalar == "\n" { line += 1 }
            current.append(scalar)
        }

        while index < chars.count {
            let c = chars[index]
            let next: Unicode.Scalar? = index + 1 < chars.count ? chars[index + 1] : nil
            if c == "-" && next == "-" {
                while index < chars.count && chars[index] != "\n" { index += 1 }
                continue
            }
            if c == "/" && next == "*" {
                index += 2
                while index < chars.count && !(chars[index] == "*" && index + 1 < chars.count && chars[index + 1] == "/") {
                    if chars[index] == "\n" { line += 1 }
                    index += 1
                }
                index += 2
                continue
            }
            if c == "'" || c == "\"" {
                append(c)
                index += 1
                while index < chars.count {
                    append(chars[index])
                    if chars[index] == c {
                        if index + 1 < chars.count && chars[index + 1] == c {  // doubled quote
                            append(chars[index + 1])
                            index += 2
                            continue
                        }
                        index += 1
                        break
                    }
                    index += 1
                }
                continue
            }
            if c == "$", let tagEnd = Self.dollarTagEnd(chars, from: index) {
                let tag = chars[index...tagEnd]
                for s in tag { append(s) }
                index = tagEnd + 1
                while index < chars.count {
                    if chars[index] == "$", index + tag.count <= chars.count,
                       chars[index..<(index + tag.count)].elementsEqual(tag) {
                        for s in tag { append(s) }
                        index += tag.count
                        break
                    }
                    append(chars[index])
                    index += 1
                }
                continue
            }
            if c == ";" {
                flush()
                index += 1
                continue
            }
            append(c)
            index += 1
        }
        flush()
        self.statements = statements
    }

    /// The index of the closing `$` of a dollar-quote tag starting at `start`, if it is one.
    private static func dollarTagEnd(_ chars: [Unicode.Scalar], from start: Int) -> Int? {
        var i = start + 1
        while i < chars.count {
            let s = chars[i]
            if s == "$" { return i }
            guard s.properties.isAlphabetic || s == "_" || (s.properties.numericType != nil && i > start + 1) else {
                return nil
            }
            i += 1
        }
        return nil
    }
}

import Foundation
