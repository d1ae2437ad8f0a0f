namespace Flash.Benchmarks.Workloads;

/// <summary>
/// The littlefs figures of /work/shared/bench/REFERENCE.md (littlefs v2.11.2 on the same device and timing model),
/// shown next to ours in the readable table. Text, not numbers: several are ranges or carry a tuned variant.
/// </summary>
internal static class Reference
{
    /// <summary>The littlefs figure for a workload metric, or empty when REFERENCE.md has none.</summary>
    /// <param name="workload">Workload id.</param>
    /// <param name="metric">Metric name.</param>
    /// <returns>The figure as text.</returns>
    public static string Littlefs(string workload, string metric) => (workload, metric) switch
    {
        ("W1", "sim_mbps") => "5.44",
        ("W1", "wa") => "1.003",
        ("W1", "erases") => "545",
        ("W1", "wall_mbps") => "~590",
        ("W2", "mount_sim_ms") => "0.38",
        ("W2", "first_write_sim_ms") => "200–600",
        ("W2", "read_sim_mbps") => "25.9",
        ("W3", "files_per_s_sim") => "32 (58 tuned)",
        ("W3", "wa") => "18.0 (22.9 tuned)",
        ("W4", "ops_per_s_sim") => "5.8",
        ("W4", "wa") => "144",
        ("W5", "wear_spread") => "2.74 (13.4 tuned)",
        ("W5", "erase_min") => "1",
        ("W5", "erase_max") => "50",
        ("W6", "mount_sim_ms") => "3.7–14.6",
        ("W6", "first_write_sim_ms") => "300–600",
        ("W6", "intact") => "16/16 cuts",
        (_, "ram_bytes") when workload != "RAW" => "4.4–6.5 KiB",
        _ => "",
    };
}
