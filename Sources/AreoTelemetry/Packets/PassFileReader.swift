import Foundation

/// Reads a pass file from disk window by window (bounded memory whatever the file's size) and
/// yields the same events as a ``PassFileScanner`` over the whole file: adjacent damaged
/// stretches split by a window boundary are merged back into one.
public struct PassFileReader: Sendable {
    public let url: URL
    /// Bytes read per window (at least twice ``PassFileScanner/lookahead``).
    public let windowSize: Int

    public init(url: URL, windowSize: Int = 8 << 20) {
        self.url = url
        self.windowSize = max(windowSize, 2 * PassFileScanner.lookahead)
    }

    /// Calls `body` with the events of each window in file order.
    public func forEachWindow(_ body: ([PassFileScanner.Event]) async throws -> Void) async throws {
        guard let handle = try? FileHandle(forReadingFrom: url) else {
            throw TelemetryError(.passFile, "cannot open the pass file", file: url.path)
        }
        defer { try? handle.close() }
        var window: [UInt8] = []
        var base = 0
        var atEnd = false
        var pendingDamage: PassFileScanner.Damage? = nil
        while !atEnd || !window.isEmpty {
            while !atEnd && window.count < windowSize {
                let chunk = try handle.read(upToCount: windowSize - window.count) ?? Data()
                if chunk.isEmpty { atEnd = true } else { window.append(contentsOf: chunk) }
            }
            var events: [PassFileScanner.Event] = []
            let consumed = PassFileScanner(window: window, baseOffset: base, isFinal: atEnd).forEachEvent { event in
                if case .damage(let d) = event {
                    if let p = pendingDamage, p.offset + p.length == d.offset {
                        pendingDamage = .init(kind: d.kind, offset: p.offset, length: p.length + d.length, rule: p.rule)
                    } else {
                        if let p = pendingDamage { events.append(.damage(p)) }
                        pendingDamage = d
                    }
                } else {
                    if let p = pendingDamage { events.append(.damage(p)); pendingDamage = nil }
                    events.append(event)
                }
            }
            if atEnd, let p = pendingDamage { events.append(.damage(p)); pendingDamage = nil }
            try await body(events)
            window.removeFirst(consumed)
            base += consumed
            if atEnd && consumed == 0 { break }
        }
    }
}
