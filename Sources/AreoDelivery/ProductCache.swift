import Crypto
import Foundation
import Logging
import NIOCore

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
public actor ProductCache {
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

    public nonisolated let directory: URL
    public nonisolated let budgetBytes: Int
    /// How many bytes of the most recently used entries are also kept in memory, so a hit is
    /// answered without reading the file (its size and identity are still checked with `stat`).
    public nonisolated let memoryBytes: Int
    var memoryUsed = 0
    let logger: Logger
    var slots: [String: Slot] = [:]
    var tick: UInt64 = 0
    var bytes = 0
    var statistics = Statistics(entries: 0, bytes: 0, budgetBytes: 0, hits: 0, misses: 0, evictions: 0, corruptDetected: 0)
    var indexDirty = false
    var lastIndexWrite = Date.distantPast
    /// Called with the bytes removed by each eviction (metrics).
    var onEvict: @Sendable (Int) -> Void = { _ in }

    /// Opens (creating) the cache in `directory`, restoring its entries and their order of use.
    public init(directory: URL, budgetBytes: Int, memoryBytes: Int = 256 << 20, logger: Logger) throws {
        self.directory = directory
        self.budgetBytes = budgetBytes
        self.memoryBytes = memoryBytes
        self.logger = logger
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
        slots = restored
        tick = UInt64(order.count + 1)
        bytes = restored.values.reduce(0) { $0 + $1.entry.size }
        statistics.budgetBytes = budgetBytes
        let total = restored.values.reduce(0) { $0 + $1.entry.size }
        logger.info("cache opened", metadata: ["directory": "\(directory.path)", "entries": "\(restored.count)", "bytes": "\(total)"])
    }

    /// Sets the eviction observer (metrics).
    public func observeEvictions(_ observer: @escaping @Sendable (Int) -> Void) { onEvict = observer }

    func productPath(_ key: String) -> String { directory.appendingPathComponent("\(key).product").path }

    /// The entry for `key` when it is present and intact; marks it most recently used.
    /// A changed file is verified against its checksum again; a bad one is removed (nil).
    public func lookup(_ key: String) -> Hit? {
        guard var slot = slots[key] else {
            statistics.misses += 1
            return nil
        }
        let path = productPath(key)
        guard let signature = Self.signature(path), signature.size == slot.entry.size else {
            discardCorrupt(key, reason: "missing or truncated")
            return nil
        }
        if slot.verified != signature {
            memoryUsed -= slot.body?.readableBytes ?? 0
            slot.body = nil
            guard let data = FileManager.default.contents(atPath: path), Self.sha256(data) == slot.entry.sha256 else {
                discardCorrupt(key, reason: "checksum mismatch")
                return nil
            }
            slot.verified = signature
            if slot.entry.size <= memoryBytes {
                slot.body = ByteBuffer(bytes: data)
                memoryUsed += slot.entry.size
            }
        }
        tick += 1
        slot.lastUse = tick
        slots[key] = slot
        statistics.hits += 1
        indexDirty = true
        trimMemory()
        writeIndexIfDue()
        return Hit(entry: slot.entry, path: path, body: slots[key]?.body)
    }

    /// Drops the bytes of the least recently used entries until the memory tier fits.
    private func trimMemory() {
        guard memoryUsed > memoryBytes else { return }
        for slot in slots.values.filter({ $0.body != nil }).sorted(by: { $0.lastUse < $1.lastUse }) {
            guard memoryUsed > memoryBytes else { break }
            memoryUsed -= slot.body?.readableBytes ?? 0
            slots[slot.entry.key]?.body = nil
        }
    }

    /// The entry's metadata without touching its recency.
    public func peek(_ key: String) -> Entry? { slots[key]?.entry }

    /// Stores `bytes` under `entry.key` (atomically), then evicts least-recently-used entries
    /// until the cache fits its budget. An entry larger than the whole budget is not stored.
    @discardableResult
    public func store(_ content: [UInt8], as entry: Entry) throws -> Hit? {
        guard entry.size == content.count, entry.size <= budgetBytes else { return nil }
        let path = productPath(entry.key)
        try Self.writeAtomically(Data(content), to: URL(fileURLWithPath: path), in: directory)
        try Self.writeAtomically(try JSONEncoder().encode(entry), to: directory.appendingPathComponent("\(entry.key).json"), in: directory)
        if let old = slots[entry.key] {
            bytes -= old.entry.size
            memoryUsed -= old.body?.readableBytes ?? 0
        }
        tick += 1
        let body = entry.size <= memoryBytes ? ByteBuffer(bytes: content) : nil
        memoryUsed += body?.readableBytes ?? 0
        slots[entry.key] = Slot(entry: entry, lastUse: tick, verified: Self.signature(path), body: body)
        bytes += entry.size
        evictToBudget(keeping: entry.key)
        trimMemory()
        indexDirty = true
        writeIndex()
        return Hit(entry: entry, path: path, body: body)
    }

    /// Removes an entry (stale after a regeneration, or corrupt).
    public func remove(_ key: String) {
        guard let slot = slots.removeValue(forKey: key) else { return }
        bytes -= slot.entry.size
        memoryUsed -= slot.body?.readableBytes ?? 0
        try? FileManager.default.removeItem(atPath: productPath(key))
        try? FileManager.default.removeItem(at: directory.appendingPathComponent("\(key).json"))
        indexDirty = true
    }

    /// Every entry, most recently used first.
    public func entriesByRecency() -> [Entry] {
        slots.values.sorted { $0.lastUse > $1.lastUse }.map(\.entry)
    }

    public func currentStatistics() -> Statistics {
        var s = statistics
        s.entries = slots.count
        s.bytes = bytes
        return s
    }

    /// Writes the index now (at shutdown).
    public func flush() { writeIndex() }

    private func discardCorrupt(_ key: String, reason: String) {
        logger.warning("cache: entry discarded, will be rendered again", metadata: ["key": "\(key)", "reason": "\(reason)"])
        statistics.corruptDetected += 1
        statistics.misses += 1
        remove(key)
    }

    private func evictToBudget(keeping kept: String) {
        guard bytes > budgetBytes else { return }
        for slot in slots.values.sorted(by: { $0.lastUse < $1.lastUse }) where slot.entry.key != kept {
            guard bytes > budgetBytes else { break }
            remove(slot.entry.key)
            statistics.evictions += 1
            onEvict(slot.entry.size)
            logger.debug("cache: evicted", metadata: ["key": "\(slot.entry.key)", "bytes": "\(slot.entry.size)"])
        }
    }

    private func writeIndexIfDue() {
        if Date().timeIntervalSince(lastIndexWrite) > 2 { writeIndex() }
    }

    private func writeIndex() {
        guard indexDirty else { return }
        let order = slots.values.sorted { $0.lastUse < $1.lastUse }.map(\.entry.key)
        do {
            try Self.writeAtomically(try JSONEncoder().encode(order), to: directory.appendingPathComponent("index.json"), in: directory)
            indexDirty = false
            lastIndexWrite = Date()
        } catch {
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
