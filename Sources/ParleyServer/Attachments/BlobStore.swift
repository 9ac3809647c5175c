import Crypto
import Foundation
import NIOPosix
import ParleyCore

/// Where attachment bytes live. Keys are the bytes' SHA-256, so a file stored twice is kept
/// once and a key can never point at other bytes.
public protocol BlobStore: Sendable {
    /// Stores `bytes` and returns their key.
    func put(_ bytes: [UInt8]) async throws -> String
    /// The bytes under `key`, or nil when there are none.
    func get(_ key: String) async throws -> [UInt8]?
    /// A line for the log: where the files go (never a credential).
    var summary: String { get }
}

public enum BlobKeys {
    public static func key(for bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).hexEncoded
    }

    /// Keys are lowercase hex SHA-256: anything else is refused before it reaches a path or URL.
    static func isValid(_ key: String) -> Bool {
        key.utf8.count == 64 && key.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}

public enum BlobStoreError: Error, CustomStringConvertible {
    case invalidKey
    case unavailable(String)
    case configuration(String)

    public var description: String {
        switch self {
        case .invalidKey: return "invalid blob key"
        case .unavailable(let why): return "the file store is unavailable: \(why)"
        case .configuration(let why): return why
        }
    }
}

/// Files on the local disk under the data directory: `ab/cd/<sha256>`, written to a temporary
/// name and renamed, so a crash never leaves half a file under a real key. Disk work runs on
/// NIO's blocking pool, not on the server's event loops.
public struct DiskBlobStore: BlobStore {
    public let root: URL

    public init(root: URL) {
        self.root = root
    }

    public var summary: String { "local disk at \(root.path)" }

    func path(_ key: String) -> URL {
        let utf8 = Array(key.utf8)
        let first = String(decoding: utf8[0..<2], as: UTF8.self), second = String(decoding: utf8[2..<4], as: UTF8.self)
        return root.appendingPathComponent(first).appendingPathComponent(second).appendingPathComponent(key)
    }

    public func put(_ bytes: [UInt8]) async throws -> String {
        let key = BlobKeys.key(for: bytes)
        let target = path(key)
        try await NIOThreadPool.singleton.runIfActive {
            let files = FileManager.default
            if files.fileExists(atPath: target.path) { return }
            try files.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            let temporary = target.deletingLastPathComponent().appendingPathComponent(".\(key).\(UUID().uuidString)")
            try Data(bytes).write(to: temporary)
            do {
                try files.moveItem(at: temporary, to: target)
            } catch {
                // Another writer stored the same bytes first: theirs are ours.
                try? files.removeItem(at: temporary)
                if !files.fileExists(atPath: target.path) { throw error }
            }
        }
        return key
    }

    public func get(_ key: String) async throws -> [UInt8]? {
        guard BlobKeys.isValid(key) else { throw BlobStoreError.invalidKey }
        let target = path(key)
        return try await NIOThreadPool.singleton.runIfActive {
            guard FileManager.default.fileExists(atPath: target.path) else { return nil }
            return Array(try Data(contentsOf: target))
        }
    }
}
