using Microsoft.Extensions.Logging;

namespace Flash.Ffs.Mirror;

/// <summary>
/// What a pair tells the world: its four events (raised with the pair as sender) and the log messages that go with
/// them. A leaf every part of the pair may call; it calls nothing back.
/// </summary>
internal sealed class PairEvents(object sender, ILogger log)
{
    /// <summary>See <see cref="RedundantPair.TransactionChanged"/>.</summary>
    public event EventHandler<MirrorTransactionEventArgs>? TransactionChanged;

    /// <summary>See <see cref="RedundantPair.HealthChanged"/>.</summary>
    public event EventHandler<PairHealthEventArgs>? HealthChanged;

    /// <summary>See <see cref="RedundantPair.SelfHealed"/>.</summary>
    public event EventHandler<SelfHealEventArgs>? SelfHealed;

    /// <summary>See <see cref="RedundantPair.Redesignated"/>.</summary>
    public event EventHandler<PairDesignationEventArgs>? Redesignated;

    /// <summary>The pair's logger.</summary>
    public ILogger Log => log;

    /// <summary>A step of a mirrored transaction (a failure is logged as a warning, the rest at debug level).</summary>
    public void Transaction(ulong id, string operation, MirrorTransactionPhase phase, Exception? ex = null)
    {
        if (phase == MirrorTransactionPhase.Failed)
        {
            log.LogWarning(MirrorEvents.TransactionFailed, ex, "Transaction {TransactionId} {Operation} failed", id, operation);
        }
        else
        {
            log.LogDebug(MirrorEvents.Transaction, "Transaction {TransactionId} {Operation}: {Phase}", id, operation, phase);
        }

        TransactionChanged?.Invoke(sender, new MirrorTransactionEventArgs(id, operation, phase, ex));
    }

    /// <summary>A file was repaired on <paramref name="member"/> from the other device (or from a transaction's bytes).</summary>
    public void Healed(PairMember member, string absolutePath)
    {
        log.LogWarning(MirrorEvents.SelfHeal, "Repaired {Path} on device {DeviceId} from the other device", absolutePath, member.DeviceId);
        SelfHealed?.Invoke(sender, new SelfHealEventArgs(member.DeviceId, absolutePath));
    }

    /// <summary>The pair's redundancy changed.</summary>
    public void Health(Guid deviceId, bool degraded, string reason) => HealthChanged?.Invoke(sender, new PairHealthEventArgs(deviceId, degraded, reason));

    /// <summary>The designation changed.</summary>
    public void Designated(PairMember primary, ulong generation)
    {
        log.LogInformation(MirrorEvents.Redesignated, "Device {DeviceId} is primary (designation generation {Generation})", primary.DeviceId, generation);
        Redesignated?.Invoke(sender, new PairDesignationEventArgs(primary.DeviceId, generation));
    }
}
