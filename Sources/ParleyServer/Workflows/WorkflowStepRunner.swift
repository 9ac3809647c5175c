import Foundation
import ParleyCore
import ParleyStore

/// How a step ended, and where the run goes next.
enum StepOutcome: Sendable {
    /// Done; continue at `target` (nil: the next step in order).
    case next(target: String?, result: WorkflowStepResult, detail: String?)
    /// Waiting for a timer or a reply until `due`.
    case wait(kind: String, due: Date, detail: String)
    /// The step failed: the run ends as failed.
    case fail(String)
}

/// Steps one claimed run forward until it waits, ends or fails, saving and logging after each step.
struct WorkflowStepRunner {
    let services: Services
    /// A run that takes this many steps is stopped (a jump that loops forever).
    static let maxSteps = 200

    var runs: WorkflowRunRepository { WorkflowRunRepository(database: services.database) }
    var actions: WorkflowActions { WorkflowActions(database: services.database) }

    /// Never throws: one run's failure must not stop the others; a run whose state cannot be
    /// written keeps its lease and is taken up again when it ends.
    func advance(_ claimed: WorkflowRun) async {
        do {
            try await step(claimed)
        } catch {
            services.logger.error("workflow run failed", metadata: ["run": "\(claimed.id)", "error": "\(loggableDescription(of: error))"])
            var failed = claimed
            failed.status = .failed
            try? await runs.log(runId: claimed.id, stepId: claimed.currentStep ?? "-", type: nil, outcome: "failed",
                                input: nil, detail: "internal error", at: services.clock.now())
            try? await runs.save(failed, waitKind: nil, dueAt: nil, at: services.clock.now())
        }
    }

    private func step(_ claimed: WorkflowRun) async throws {
        var run = claimed
        guard let workflow = try await WorkflowRepository(database: services.database).find(id: run.workflowId, workspaceId: run.workspaceId),
              run.contactId != nil else {
            run.status = .failed
            try await runs.save(run, waitKind: nil, dueAt: nil, at: services.clock.now())
            return
        }
        let steps = workflow.definition.steps
        var current = run.currentStep ?? steps.first?.id
        while true {
            let now = services.clock.now()
            guard let id = current, id != "end", let index = steps.firstIndex(where: { $0.id == id }) else {
                run.status = .completed
                run.currentStep = nil
                try await runs.save(run, waitKind: nil, dueAt: nil, at: now)
                return
            }
            let step = steps[index]
            guard run.stepsTaken < Self.maxSteps else {
                try await runs.log(runId: run.id, stepId: step.id, type: step.type, outcome: "failed", input: nil,
                                   detail: "stopped after \(Self.maxSteps) steps (a loop?)", at: now)
                run.status = .failed
                try await runs.save(run, waitKind: nil, dueAt: nil, at: now)
                return
            }
            var executor = WorkflowStepExecutor(services: services, workflow: workflow, run: run)
            var (outcome, input, context) = await executor.execute(step)
            run.context = context
            if case .fail(let detail) = outcome, step.continueOnFailure == true {
                outcome = .next(target: nil, result: WorkflowStepResult(outcome: "failed"), detail: detail)
            }
            switch outcome {
            case .next(let target, let result, let detail):
                run.context.steps[step.id] = result
                run.stepsTaken += 1
                try await runs.log(runId: run.id, stepId: step.id, type: step.type, outcome: result.outcome, input: input, detail: detail, at: now)
                current = target ?? step.next ?? (index + 1 < steps.count ? steps[index + 1].id : nil)
                run.currentStep = current
                run.status = .running
                try await runs.save(run, waitKind: nil, dueAt: now, at: now)
            case .wait(let kind, let due, let detail):
                run.currentStep = step.id
                run.status = .waiting
                try await runs.log(runId: run.id, stepId: step.id, type: step.type, outcome: "waiting", input: input, detail: detail, at: now)
                try await runs.save(run, waitKind: kind, dueAt: due, at: now)
                return
            case .fail(let detail):
                run.context.steps[step.id] = WorkflowStepResult(outcome: "failed")
                run.stepsTaken += 1
                run.status = .failed
                run.currentStep = step.id
                try await runs.log(runId: run.id, stepId: step.id, type: step.type, outcome: "failed", input: input, detail: detail, at: now)
                try await runs.save(run, waitKind: nil, dueAt: nil, at: now)
                return
            }
        }
    }
}
