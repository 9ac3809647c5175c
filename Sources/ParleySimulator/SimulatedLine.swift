import Hummingbird

extension ProviderSimulator {
    func line(_ request: Recorded) -> Response {
        Self.json(501, ["error": "not simulated yet"])
    }
}
