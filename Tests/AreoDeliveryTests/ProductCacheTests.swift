import AreoDelivery
import AreoTestSupport
import Foundation
import Testing

/// The LRU disk cache with real files.
@Suite struct ProductCacheTests {
    static func directory() -> URL {
        URL(fileURLWithPath: "/tmp/areo-cache-test-\(UUID().uuidString.prefix(8))")
    }

    static func entry(_ key: String, _ bytes: [UInt8]) -> ProductCache.Entry {
        ProductCache.Entry(key: key, mediaType: "image/png", size: bytes.count, sha256: ProductCache.sha256(bytes), observationID: 1, attributes: ["file": key])
    }

    @Test func keepsWithinItsBudgetAndEvictsTheLeastRecentlyUsed() async throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = try ProductCache(directory: directory, budgetBytes: 3000, logger: TestDatabase.logger)
        let a = [UInt8](repeating: 1, count: 1000), b = [UInt8](repeating: 2, count: 1000), c = [UInt8](repeating: 3, count: 1000)
        try await cache.store(a, as: Self.entry("a", a))
        try await cache.store(b, as: Self.entry("b", b))
        try await cache.store(c, as: Self.entry("c", c))
        // a is used again, so b is now the least recently used.
        #expect(await cache.lookup("a") != nil)
        let d = [UInt8](repeating: 4, count: 1000)
        try await cache.store(d, as: Self.entry("d", d))
        let statistics = cache.currentStatistics()
        #expect(statistics.bytes <= 3000)
        #expect(statistics.evictions == 1)
        #expect(cache.peek("b") == nil)
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("b.product").path))
        for key in ["a", "c", "d"] { #expect(cache.peek(key) != nil, "\(key) kept") }
        // An entry larger than the whole budget is not stored (and evicts nothing).
        let huge = [UInt8](repeating: 5, count: 4000)
        #expect(try await cache.store(huge, as: Self.entry("huge", huge)) == nil)
        #expect(cache.currentStatistics().entries == 3)
    }

    @Test func itsIndexAndOrderSurviveARestart() async throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            let cache = try ProductCache(directory: directory, budgetBytes: 10_000, logger: TestDatabase.logger)
            for key in ["x", "y", "z"] {
                let bytes = Array(key.utf8) + [UInt8](repeating: 7, count: 100)
                try await cache.store(bytes, as: Self.entry(key, bytes))
            }
            _ = await cache.lookup("x")
            cache.flush()
        }
        // A leftover temporary file and an orphan product (crash between the two renames) are cleaned up.
        try Data([1, 2, 3]).write(to: directory.appendingPathComponent(".tmp-leftover"))
        try Data([1, 2, 3]).write(to: directory.appendingPathComponent("orphan.product"))
        let reopened = try ProductCache(directory: directory, budgetBytes: 10_000, logger: TestDatabase.logger)
        #expect(reopened.entriesByRecency().map(\.key) == ["x", "z", "y"])
        #expect(await reopened.lookup("y") != nil)
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent(".tmp-leftover").path))
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("orphan.product").path))
    }

    @Test func aTruncatedOrAlteredFileIsNeverServed() async throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = try ProductCache(directory: directory, budgetBytes: 10_000, logger: TestDatabase.logger)
        let bytes = (0..<2000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try await cache.store(bytes, as: Self.entry("t", bytes))
        try await cache.store(bytes, as: Self.entry("u", bytes))
        #expect(await cache.lookup("t") != nil)
        // Truncated: the size no longer matches.
        let t = directory.appendingPathComponent("t.product").path
        #expect(truncate(t, 1000) == 0)
        #expect(await cache.lookup("t") == nil)
        #expect(cache.peek("t") == nil)
        // Same size, one byte changed: the checksum catches it.
        var altered = bytes
        altered[10] ^= 0xFF
        try Data(altered).write(to: directory.appendingPathComponent("u.product"))
        #expect(await cache.lookup("u") == nil)
        #expect(cache.currentStatistics().corruptDetected == 2)
    }

    /// The budget holds from the moment the cache opens: reopened with less room, the least
    /// recently used entries go (files and all) before anything is served.
    @Test func aSmallerBudgetAtOpenEvictsTheLeastRecentlyUsed() async throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = try ProductCache(directory: directory, budgetBytes: 10_000, logger: TestDatabase.logger)
        for key in ["p", "q", "r", "s"] {
            let bytes = [UInt8](repeating: UInt8(key.utf8.first!), count: 1000)
            try await cache.store(bytes, as: Self.entry(key, bytes))
        }
        _ = await cache.lookup("p")
        cache.flush()
        let reopened = try ProductCache(directory: directory, budgetBytes: 2500, logger: TestDatabase.logger)
        #expect(reopened.currentStatistics().bytes <= 2500)
        #expect(reopened.entriesByRecency().map(\.key) == ["p", "s"])
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("q.product").path))
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("r.json").path))
        #expect(await reopened.lookup("p") != nil)
    }

    /// Many lookups and stores at once keep the books straight (the lock is never held across I/O).
    @Test func concurrentStoresAndLookupsKeepTheBooks() async throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = try ProductCache(directory: directory, budgetBytes: 20_000, logger: TestDatabase.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<64 {
                group.addTask {
                    let bytes = [UInt8](repeating: UInt8(n), count: 1000)
                    try await cache.store(bytes, as: Self.entry("k\(n % 32)", bytes))
                    _ = await cache.lookup("k\((n + 7) % 32)")
                }
            }
            try await group.waitForAll()
        }
        let statistics = cache.currentStatistics()
        #expect(statistics.bytes <= 20_000 && statistics.bytes == statistics.entries * 1000)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".product") }
        #expect(Set(files.map { String($0.dropLast(8)) }) == Set(cache.entriesByRecency().map(\.key)))
    }
}
