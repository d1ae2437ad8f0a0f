namespace Flash.Tests.PowerLoss;

/// <summary>File-system bugs the power-cut sweep found and that are not fixed yet (see each workload's KnownIssue).</summary>
internal static class KnownIssues
{
    /// <summary>After two recoveries on a nearly full volume a small write fails although EnsureSpace accepted it.</summary>
    public const string NoFreeBlockAfterDoubleRecovery =
        "on a nearly full volume, after a power cut and a second cut during the first writes of the recovered volume, "
        + "a 5,000-byte WriteAllBytes throws FlashNoSpaceException('No free erase block is left') from OpenBlock: blocks written "
        + "since the checkpoint are unmovable after recovery and the space check does not account for it. "
        + "Repro: FLASH_STRICT=1 FLASH_REPLAY_WORKLOAD=static-wear-levelling FLASH_REPLAY_CUT=1068 FLASH_REPLAY_SEED=13420748066110165741 "
        + "FLASH_REPLAY_SECOND_CUT=6 dotnet test --project tests/Flash.Tests -- --filter-class Flash.Tests.PowerLoss.PowerCutSweepTests";
}
