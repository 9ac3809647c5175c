import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import ParleyCore

/// Files in an S3-compatible object store, so that several instances share them. Requests are
/// signed with AWS Signature Version 4 and addressed path-style (`endpoint/bucket/key`), which
/// every S3-compatible store accepts.
public struct S3BlobStore: BlobStore {
    public struct Configuration: Sendable, Equatable {
        public var endpoint: String
        public var bucket: String
        public var prefix: String
        public var region: String
        public var accessKey: String
        public var secretKey: String

        /// `s3://bucket/prefix?endpoint=https://…&region=…`; the keys come from the environment
        /// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`), never from the URL, which is logged.
        public static func parse(_ url: String, environment: [String: String]) throws -> Configuration {
            guard let components = URLComponents(string: url), components.scheme == "s3", let bucket = components.host, !bucket.isEmpty else {
                throw BlobStoreError.configuration("PARLEY_STORAGE_URL must look like s3://bucket/prefix?endpoint=…&region=…")
            }
            if components.user != nil || components.password != nil {
                throw BlobStoreError.configuration("PARLEY_STORAGE_URL must not hold credentials; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
            }
            let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
            let region = query["region"] ?? environment["AWS_REGION"] ?? "us-east-1"
            var endpoint = query["endpoint"] ?? "https://s3.\(region).amazonaws.com"
            while endpoint.hasSuffix("/") { endpoint.removeLast() }
            guard let access = environment["AWS_ACCESS_KEY_ID"], !access.isEmpty,
                  let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else {
                throw BlobStoreError.configuration("an s3:// storage URL needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment")
            }
            var prefix = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            if !prefix.isEmpty { prefix += "/" }
            return Configuration(endpoint: endpoint, bucket: bucket, prefix: prefix, region: region, accessKey: access, secretKey: secret)
        }
    }

    public let configuration: Configuration
    let client: HTTPClient
    let now: @Sendable () -> Date

    public init(configuration: Configuration, client: HTTPClient = .shared, now: @escaping @Sendable () -> Date = { Date() }) {
        self.configuration = configuration
        self.client = client
        self.now = now
    }

    public var summary: String { "S3 bucket \(configuration.bucket) at \(configuration.endpoint)" }

    public func put(_ bytes: [UInt8]) async throws -> String {
        let key = BlobKeys.key(for: bytes)
        let response = try await execute(.PUT, key: key, body: bytes)
        guard (200..<300).contains(response.status) else {
            throw BlobStoreError.unavailable("PUT answered HTTP \(response.status): \(String(decoding: response.body.prefix(300), as: UTF8.self))")
        }
        return key
    }

    public func get(_ key: String) async throws -> [UInt8]? {
        guard BlobKeys.isValid(key) else { throw BlobStoreError.invalidKey }
        let response = try await execute(.GET, key: key, body: nil)
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw BlobStoreError.unavailable("GET answered HTTP \(response.status)") }
        return response.body
    }

    func execute(_ method: HTTPMethod, key: String, body: [UInt8]?) async throws -> (status: Int, body: [UInt8]) {
        let path = "/\(configuration.bucket)/\(configuration.prefix)\(key)"
        guard let host = URLComponents(string: configuration.endpoint).flatMap(Self.hostHeader) else {
            throw BlobStoreError.configuration("the storage endpoint is not a URL")
        }
        var request = HTTPClientRequest(url: configuration.endpoint + path)
        request.method = method
        let headers = SigV4.sign(method: method.rawValue, path: path, host: host, payload: body ?? [], date: now(),
                                 region: configuration.region, accessKey: configuration.accessKey, secretKey: configuration.secretKey)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Length", value: String(body.count))
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await client.execute(request, timeout: .seconds(60))
        let collected = try await response.body.collect(upTo: Int(AttachmentLimitsBound.bytes))
        return (Int(response.status.code), Array(buffer: collected))
    }

    /// `host[:port]` as the Host header carries it (and as the signature covers it).
    static func hostHeader(_ components: URLComponents) -> String? {
        guard let host = components.host else { return nil }
        return components.port.map { "\(host):\($0)" } ?? host
    }
}

/// The largest body read back from the store: a stored file is never larger than this.
enum AttachmentLimitsBound {
    static let bytes: Int64 = 64 << 20
}

/// AWS Signature Version 4 for one S3 request with a signed payload hash.
enum SigV4 {
    static func sign(method: String, path: String, host: String, payload: [UInt8], date: Date, region: String,
                     accessKey: String, secretKey: String) -> [(String, String)] {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let amzDate = formatter.string(from: date)
        let day = String(amzDate.prefix(8))
        let payloadHash = hex(SHA256.hash(data: payload))
        let canonicalHeaders = "host:\(host)\nx-amz-content-sha256:\(payloadHash)\nx-amz-date:\(amzDate)\n"
        let signedHeaders = "host;x-amz-content-sha256;x-amz-date"
        let canonicalRequest = [method, uriEncodePath(path), "", canonicalHeaders, signedHeaders, payloadHash].joined(separator: "\n")
        let scope = "\(day)/\(region)/s3/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, hex(SHA256.hash(data: Array(canonicalRequest.utf8)))].joined(separator: "\n")
        var key = SymmetricKey(data: Array("AWS4\(secretKey)".utf8))
        for part in [day, region, "s3", "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        let signature = hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
        return [
            ("x-amz-date", amzDate),
            ("x-amz-content-sha256", payloadHash),
            ("Authorization", "AWS4-HMAC-SHA256 Credential=\(accessKey)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"),
        ]
    }

    /// Each path segment URI-encoded as SigV4 wants (unreserved characters kept, "/" kept).
    static func uriEncodePath(_ path: String) -> String {
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return path.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.addingPercentEncoding(withAllowedCharacters: unreserved) ?? String($0) }.joined(separator: "/")
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.hexEncoded
    }
}
