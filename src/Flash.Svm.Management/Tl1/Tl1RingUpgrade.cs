using System.Diagnostics;
using System.Net;

namespace Flash.Svm.Management.Tl1;

/// <summary>How one node of a ring came out of a roll.</summary>
public enum RingNodeOutcome
{
    /// <summary>Downloaded, trial passed, accepted.</summary>
    Committed,
    /// <summary>Its trial failed and it rolled back: the roll stopped here.</summary>
    RolledBack,
    /// <summary>A command was denied or the download failed: the roll stopped here.</summary>
    Failed,
    /// <summary>Not touched because the roll stopped before it.</summary>
    Skipped,
}

/// <summary>The result for one node.</summary>
/// <param name="Endpoint">The node's TL1 agent.</param>
/// <param name="Outcome">What happened.</param>
/// <param name="Elapsed">Time spent on the node.</param>
/// <param name="Detail">The last response or autonomous message that decided it.</param>
public sealed record RingNodeResult(IPEndPoint Endpoint, RingNodeOutcome Outcome, TimeSpan Elapsed, string Detail);

/// <summary>
/// Rolls an upgrade around a ring of nodes over TL1 as an operator does (claims 28–32, 46): one node after the other
/// COPY-RFILE, wait for the transfer, APPLY ACT (trial), APPLY ACPT; the first node whose trial fails (it rolls back
/// itself) or that refuses stops the roll, so the nodes after it stay on their release.
/// </summary>
/// <param name="user">TL1 user on every node.</param>
/// <param name="password">Its password.</param>
/// <param name="source">The COPY-RFILE SRC (the package each node fetches).</param>
public sealed class Tl1RingUpgrade(string user, string password, string source)
{
    /// <summary>How long one node may take.</summary>
    public TimeSpan NodeTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Rolls the upgrade around the nodes, in order.</summary>
    /// <param name="nodes">The nodes' TL1 endpoints.</param>
    /// <param name="cancellationToken">Cancels the roll.</param>
    /// <returns>One result per node.</returns>
    public async Task<IReadOnlyList<RingNodeResult>> RollAsync(IReadOnlyList<IPEndPoint> nodes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var results = new List<RingNodeResult>();
        bool stopped = false;
        foreach (var node in nodes)
        {
            if (stopped)
            {
                results.Add(new RingNodeResult(node, RingNodeOutcome.Skipped, TimeSpan.Zero, "the roll stopped at an earlier node"));
                continue;
            }

            var r = await UpgradeOneAsync(node, cancellationToken).ConfigureAwait(false);
            results.Add(r);
            stopped = r.Outcome != RingNodeOutcome.Committed;
        }

        return results;
    }

    private async Task<RingNodeResult> UpgradeOneAsync(IPEndPoint node, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(NodeTimeout);
        var ct = cts.Token;
        using var c = await Tl1Connection.ConnectAsync(node, ct).ConfigureAwait(false);
        RingNodeResult Done(RingNodeOutcome o, string detail) => new(node, o, clock.Elapsed, detail);
        var login = await c.CommandAsync($"ACT-USER::{user}:{{0}}::\"{password}\";", ct).ConfigureAwait(false);
        if (!login.Completed)
        {
            return Done(RingNodeOutcome.Failed, login.Response);
        }

        var copy = await c.CommandAsync($"COPY-RFILE:::{{0}}::TYPE=SWDL,SRC=\"{source}\";", ct).ConfigureAwait(false);
        if (!copy.Completed)
        {
            return Done(RingNodeOutcome.Failed, copy.Response);
        }

        var transfer = await c.AutonomousAsync(ct, "FXFRSTATUS=COMPLD", "FXFRSTATUS=FAILED").ConfigureAwait(false);
        if (transfer.Contains("FXFRSTATUS=FAILED", StringComparison.Ordinal))
        {
            return Done(RingNodeOutcome.Failed, transfer);
        }

        var act = await c.CommandAsync("APPLY:::{0}::ACTTYPE=ACT;", ct).ConfigureAwait(false);
        if (!act.Completed)
        {
            return Done(act.Response.Contains("rolled back", StringComparison.Ordinal) ? RingNodeOutcome.RolledBack : RingNodeOutcome.Failed, act.Response);
        }

        var accept = await c.CommandAsync("APPLY:::{0}::ACTTYPE=ACPT;", ct).ConfigureAwait(false);
        await c.CommandAsync($"CANC-USER::{user}:{{0}};", ct).ConfigureAwait(false);
        return Done(accept.Completed ? RingNodeOutcome.Committed : RingNodeOutcome.Failed, accept.Response);
    }
}
