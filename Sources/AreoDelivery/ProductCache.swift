import AreoCompute
import Crypto
import Foundation
import Logging
import NIOCore
import Synchronization

/// The least-recently-used disk cache of encoded products (`cache/`, `--cache-dir`), within a
/// byte budget (`--cache-size`).
///
/// Each entry is two files named by its key: `KEY.product` (the bytes served) and `KEY.json`
/// (its ``Entry``: media type, size, SHA-256 and what it was made from). Both are written
/// atomically — temporary file, fsync, rename — product first, so a crash leaves at worst an
/// orphan product file, removed at the next start. The index of entries with their recency is
/// `index.json`, rewritten atomically; at start the metadata files are the truth and the index
/// only restores the order of use, so the cache survives a restart with its LRU order.
///
/// A file changed behind the cache's back is never served: each entry remembers the size,
/// modification time and inode its checksum was verified for; when they differ the checksum is
/// checked again, and a truncated or corrupt entry is removed (the caller renders it again).
///
/// The bookkeeping (entries, recency, byte and memory budgets) sits behind one lock that is never
/// held across file I/O: writing and fsyncing an entry, verifying a checksum and writing the index
/// run outside it on their own I/O thread (``ComputeThreads/io``, not the render threads), so a
/// hit never waits for another entry's fsync nor for a render. The byte
/// budget holds from the moment the cache opens (a smaller `--cache-size` evicts at start).
public final class ProductCache: Sendable {
    /// What is stored with every entry.
    public struct Entry: Sendable, Codable, Equatable {
        public var key: String
        public var mediaType: String
        public var size: Int
        public var sha256: String
        /// The observation it belongs to (nil for region mosaics).
        public var observationID: Int?
        /// What it was made from and as (request parameters, kernel, calibration…), for
        /// response headers and regeneration.
        public var attributes: [String: String]
        public var createdAt: Date

        public init(key: String, mediaType: String, size: Int, sha256: String, observationID: Int?, attributes: [String: String], createdAt: Date = Date()) {
            (self.key, self.mediaType, self.size, self.sha256, self.observationID, self.attributes, self.createdAt) =
                (key, mediaType, size, sha256, observationID, attributes, createdAt)
        }

        /// A strong entity tag: the content's checksum.
        public var etag: String { "\"\(sha256.prefix(32))\"" }
    }

    /// A hit: where the bytes are and what they are; the bytes themselves when they are in
    /// the memory tier.
    public struct Hit: Sendable {
        public var entry: Entry
        public var path: String
        public var body: ByteBuffer?
    }

    /// Counters for `/v1/cache` and metrics.
    public struct Statistics: Sendable, Codable, Equatable {
        public var entries: Int
        public var bytes: Int
        public var budgetBytes: Int
        public var hits: Int
        public var misses: Int
        public var evictions: Int
        public var corruptDetected: Int
    }

    struct Signature: Equatable { var size: Int; var modified: Double; var inode: UInt64 }

    struct Slot {
        var entry: Entry
        var lastUse: UInt64
        var verified: Signature?
        /// The bytes, while the entry is among the most recently used that fit the memory tier.
        var body: ByteBuffer?
    }

    /// Everything behind the lock.
    struct State {
        var slots: [String: Slot] = [:]
        var tick: UInt64 = 0
        var bytes = 0
        var memoryUsed = 0
        var statistics = Statistics(entries: 0, bytes: 0, budgetBytes: 0, hits: 0, misses: 0, evictions: 0, corruptDetected: 0)
        var indexDirty = false
        var lastIndexWrite = Date.distantPast
        /// Called with the bytes removed by each eviction (metrics).
        var onEvict: @Sendable (Int) -> Void = { _ in }
    }

    public let directory: URL
    public let budgetBytes: Int
    /// How many bytes of the most recently used entries are also kept in memory, so a hit is
    /// answered without reading the file (its size and identity are still checked with `stat`).
    public let memoryBytes: Int
    let logger: Logger
    let state: Mutex<State>
    /// Held while the index is snapshotted and written (never together with `state` across I/O).
    let indexWriting = Mutex(())
    /// Where file I/O and hashing run (never the render threads: a hit must not queue behind a render).
    let io: ComputeThreads

    /// Opens (creating) the cache in `directory`, restoring its entries and their order of use,
    /// and evicts the least recently used until it fits `budgetBytes`.
    public init(directory: URL, budgetBytes: Int, memoryBytes: Int = 256 << 20, logger: Logger, io: ComputeThreads = .io) throws {
        self.directory = directory
        self.budgetBytes = budgetBytes
        self.memoryBytes = memoryBytes
        self.logger = logger
        self.io = io
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var order: [String: UInt64] = [:]
        if let data = try? Data(contentsOf: directory.appendingPathComponent("index.json")),
           let index = try? JSONDecoder().decode([String].self, from: data) {
            for (k, key) in index.enumerated() { order[key] = UInt64(k + 1) }
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var restored: [String: Slot] = [:]
        for name in names {
            let url = directory.appendingPathComponent(name)
            if name.hasPrefix(".tmp-") { try? FileManager.default.removeItem(at: url); continue }
            guard name.hasSuffix(".json"), name != "index.json" else { continue }
            guard let data = try? Data(contentsOf: url), let entry = try? JSONDecoder().decode(Entry.self, from: data), name == "\(entry.key).json" else {
                logger.warning("cache: unreadable entry removed", metadata: ["file": "\(name)"])
                try? FileManager.default.removeItem(at: url)
                continue
            }
            restored[entry.key] = Slot(entry: entry, lastUse: order[entry.key] ?? 0, verified: nil)
        }
        for name in names where name.hasSuffix(".product") {
            let key = String(name.dropLast(".product".count))
            if restored[key] == nil { try? FileManager.default.removeItem(at: directory.appendingPathComponent(name)) }
        }
        var opened = State()
        opened.slots = restored
        opened.tick = UInt64(order.count + 1)
        opened.bytes = restored.values.reduce(0) { $0 + $1.entry.size }
        opened.statistics.budgetBytes = budgetBytes
        let evicted = Self.evictToBudget(&opened, budget: budgetBytes, keeping: nil)
        opened.indexDirty = !evicted.isEmpty
        state = Mutex(opened)
        for key in evicted.map(\.key) { removeFiles(key) }
        if !evicted.isEmpty {
            writeIndex()
            logger.info("cache: evicted at start to fit the budget", metadata: ["entries": "\(evicted.count)", "budget": "\(budgetBytes)"])
        }
        logger.info("cache opened", metadata: [
            "directory": "\(directory.path)", "entries": "\(restored.count - evicted.count)", "bytes": "\(opened.bytes)",
        ])
    }

    /// Sets the eviction observer (metrics).
    public func observeEvictions(_ observer: @escaping @Sendable (Int) -> Void) { state.withLock { $0.onEvict = observer } }

    func productPath(_ key: String) -> String { directory.appendingPathComponent("\(key).product").path }

    /// The entry for `key` when it is present and intact; marks it most recently used.
    /// A changed file is verified against its checksum again (on the I/O threads); a bad one is
    /// removed (nil).
    public func lookup(_ key: String) async -> Hit? {
        guard let slot = state.withLock({ s -> Slot? in
            let slot = s.slots[key]
            if slot == nil { s.statistics.misses += 1 }
            return slot
        }) else { return nil }
        let path = productPath(key)
        guard let signature = Self.signature(path), signature.size == slot.entry.size else {
            discardCorrupt(key, reason: "missing or truncated")
            return nil
        }
        var verifiedBody: ByteBuffer?? = nil
        if slot.verified != signature {
            let expected = slot.entry.sha256
            let data = try? await io.run { () -> Data? in
                guard let data = FileManager.default.contents(atPath: path), Self.sha256(data) == expected else { return nil }
                return data
            }
            guard let data = data ?? nil else {
                discardCorrupt(key, reason: "checksum mismatch")
                return nil
            }
            verifiedBody = .some(slot.entry.size <= memoryBytes ? ByteBuffer(bytes: data) : nil)
        }
        let (hit, indexDue) = state.withLock { s -> (Hit?, Bool) in
            guard var current = s.slots[key], current.entry == slot.entry else {
                s.statistics.misses += 1
                return (nil, false)
            }
            if let verifiedBody {
                s.memoryUsed -= current.body?.readableBytes ?? 0
                current.body = verifiedBody
                s.memoryUsed += verifiedBody?.readableBytes ?? 0
                current.verified = signature
            }
            s.tick += 1
            current.lastUse = s.tick
            s.slots[key] = current
            s.statistics.hits += 1
            s.indexDirty = true
            Self.trimMemory(&s, limit: memoryBytes)
            return (Hit(entry: current.entry, path: path, body: s.slots[key]?.body), Date().timeIntervalSince(s.lastIndexWrite) > 2)
        }
        // The index is written behind the hit, never in front of it.
        if indexDue { io.submit { [self] in writeIndex() } }
        return hit
    }

    /// Drops the bytes of the least recently used entries until the memory tier fits.
    private static func trimMemory(_ s: inout State, limit: Int) {
        guard s.memoryUsed > limit else { return }
        for slot in s.slots.values.filter({ $0.body != nil }).sorted(by: { $0.lastUse < $1.lastUse }) {
            guard s.memoryUsed > limit else { break }
            s.memoryUsed -= slot.body?.readableBytes ?? 0
            s.slots[slot.entry.key]?.body = nil
        }
    }

    /// The entry's metadata without touching its recency.
    public func peek(_ key: String) -> Entry? { state.withLock { $0.slots[key]?.entry } }

    /// Stores `bytes` under `entry.key` (atomically, on the I/O threads), then evicts
    /// least-recently-used entries until the cache fits its budget. An entry larger than the
    /// whole budget is not stored.
    @discardableResult
    public func store(_ content: [UInt8], as entry: Entry) async throws -> Hit? {
        guard entry.size == content.count, entry.size <= budgetBytes else { return nil }
        let path = productPath(entry.key)
        let directory = self.directory
        let signature = try await io.run { () -> Signature? in
            try Self.writeAtomically(Data(content), to: URL(fileURLWithPath: path), in: directory)
            try Self.writeAtomically(try JSONEncoder().encode(entry), to: directory.appendingPathComponent("\(entry.key).json"), in: directory)
            return Self.signature(path)
        }
        let body = entry.size <= memoryBytes ? ByteBuffer(bytes: content) : nil
        let (evicted, observer) = state.withLock { s -> ([Entry], @Sendable (Int) -> Void) in
            if let old = s.slots[entry.key] {
                s.bytes -= old.entry.size
                s.memoryUsed -= old.body?.readableBytes ?? 0
            }
            s.tick += 1
            s.memoryUsed += body?.readableBytes ?? 0
            s.slots[entry.key] = Slot(entry: entry, lastUse: s.tick, verified: signature, body: body)
            s.bytes += entry.size
            let evicted = Self.evictToBudget(&s, budget: budgetBytes, keeping: entry.key)
            Self.trimMemory(&s, limit: memoryBytes)
            s.indexDirty = true
            return (evicted, s.onEvict)
        }
        for old in evicted {
            observer(old.size)
            logger.debug("cache: evicted", metadata: ["key": "\(old.key)", "bytes": "\(old.size)"])
        }
        let evictedKeys = evicted.map(\.key)
        try await io.run { [self] in
            for key in evictedKeys { removeFiles(key) }
            writeIndex()
        }
        return Hit(entry: entry, path: path, body: body)
    }

    /// Removes an entry (stale after a regeneration, or corrupt).
    public func remove(_ key: String) {
        guard state.withLock({ s -> Bool in
            guard let slot = s.slots.removeValue(forKey: key) else { return false }
            s.bytes -= slot.entry.size
            s.memoryUsed -= slot.body?.readableBytes ?? 0
            s.indexDirty = true
            return true
        }) else { return }
        removeFiles(key)
    }

    private func removeFiles(_ key: String) {
        unlink(productPath(key))
        unlink(directory.appendingPathComponent("\(key).json").path)
    }

    /// Every entry, most recently used first.
    public func entriesByRecency() -> [Entry] {
        state.withLock { $0.slots.values.sorted { $0.lastUse > $1.lastUse }.map(\.entry) }
    }

    public func currentStatistics() -> Statistics {
        state.withLock { s in
            var statistics = s.statistics
            statistics.entries = s.slots.count
            statistics.bytes = s.bytes
            return statistics
        }
    }

    /// Writes the index now (at shutdown).
    public func flush() { writeIndex() }

    private func discardCorrupt(_ key: String, reason: String) {
        logger.warning("cache: entry discarded, will be rendered again", metadata: ["key": "\(key)", "reason": "\(reason)"])
        state.withLock {
            $0.statistics.corruptDetected += 1
            $0.statistics.misses += 1
        }
        remove(key)
    }

    /// Takes least recently used entries (but `kept`) out of the bookkeeping until it fits
    /// `budget`; returns them (their files are the caller's to remove, outside the lock).
    private static func evictToBudget(_ s: inout State, budget: Int, keeping kept: String?) -> [Entry] {
        guard s.bytes > budget else { return [] }
        var evicted: [Entry] = []
        for slot in s.slots.values.sorted(by: { $0.lastUse < $1.lastUse }) where slot.entry.key != kept {
            guard s.bytes > budget else { break }
            s.slots[slot.entry.key] = nil
            s.bytes -= slot.entry.size
            s.memoryUsed -= slot.body?.readableBytes ?? 0
            s.statistics.evictions += 1
            evicted.append(slot.entry)
        }
        return evicted
    }

    /// Writes `index.json` when entries changed since the last write (the order snapshotted
    /// under the lock, the file written outside it).
    private func writeIndex() {
        // One index write at a time, snapshot to rename: a flush waits for a write in flight, so
        // when it returns the file holds every change made before it.
        indexWriting.withLock { _ in writeIndexHoldingLock() }
    }

    private func writeIndexHoldingLock() {
        guard let order = state.withLock({ s -> [String]? in
            guard s.indexDirty else { return nil }
            s.indexDirty = false
            s.lastIndexWrite = Date()
            return s.slots.values.sorted { $0.lastUse < $1.lastUse }.map(\.entry.key)
        }) else { return }
        do {
            try Self.writeAtomically(try JSONEncoder().encode(order), to: directory.appendingPathComponent("index.json"), in: directory)
        } catch {
            state.withLock { $0.indexDirty = true }
            logger.error("cache: index not written", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Files

    static func signature(_ path: String) -> Signature? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let modified = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
        return Signature(size: Int(info.st_size), modified: modified, inode: UInt64(info.st_ino))
    }

    /// Hex SHA-256.
    public static func sha256(_ data: some DataProtocol) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    /// Temporary file in the same directory, fsync, rename over `url`, fsync the directory.
    static func writeAtomically(_ data: Data, to url: URL, in directory: URL) throws {
        let temporary = directory.appendingPathComponent(".tmp-\(UUID().uuidString)")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw CacheError("cannot create \(temporary.path): errno \(errno)") }
        var written = 0
        let ok = data.withUnsafeBytes { raw -> Bool in
            while written < raw.count {
                let n = write(fd, raw.baseAddress! + written, raw.count - written)
                if n <= 0 { return false }
                written += n
            }
            return fsync(fd) == 0
        }
        close(fd)
        guard ok, rename(temporary.path, url.path) == 0 else {
            unlink(temporary.path)
            throw CacheError("cannot write \(url.lastPathComponent): errno \(errno)")
        }
        let dfd = open(directory.path, O_RDONLY)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }
}

/// A cache file could not be written.
public struct CacheError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
