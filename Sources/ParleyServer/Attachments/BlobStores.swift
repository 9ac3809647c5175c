import Foundation

/// Chooses where attachment bytes go from `PARLEY_STORAGE_URL`.
public enum BlobStores {
    /// - `s3://bucket/prefix?endpoint=…&region=…`: an S3-compatible store (keys from the environment);
    /// - `file:///path` or a plain path: that directory;
    /// - unset: `parley-files` beside the SQLite database (or in the working directory for PostgreSQL).
    public static func make(storageURL: String?, databaseURL: String, environment: [String: String]) throws -> any BlobStore {
        if let storageURL, !storageURL.isEmpty {
            if storageURL.hasPrefix("s3://") {
                return S3BlobStore(configuration: try S3BlobStore.Configuration.parse(storageURL, environment: environment))
            }
            let path = storageURL.hasPrefix("file://") ? String(storageURL.dropFirst("file://".count)) : storageURL
            guard !path.isEmpty, !path.contains("://") else {
                throw BlobStoreError.configuration("PARLEY_STORAGE_URL must be s3://…, file:///… or a directory path")
            }
            return DiskBlobStore(root: URL(fileURLWithPath: path))
        }
        for prefix in ["sqlite://", "sqlite:"] where databaseURL.hasPrefix(prefix) {
            let file = URL(fileURLWithPath: String(databaseURL.dropFirst(prefix.count)))
            return DiskBlobStore(root: file.deletingLastPathComponent().appendingPathComponent("parley-files"))
        }
        return DiskBlobStore(root: URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("parley-files"))
    }
}
