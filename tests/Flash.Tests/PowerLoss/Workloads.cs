using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;

namespace Flash.Tests.PowerLoss;

/// <summary>
/// The named workloads of the power-cut sweep. Each is deterministic: the same steps, the same data, the same
/// device seed, so a cut point names one exact run.
/// </summary>
/// <remarks>
/// Extension point: the contexts/mirror layer (context switch, boot flags, mirrored writes, resync, re-designation)
/// and Flash.Svm flows (upgrade, trial boot, commit/rollback) are added here as further <see cref="Workload"/>s once
/// their APIs exist: a step runs one acknowledged operation and applies its effect to an <see cref="FsModel"/> (or to
/// a model of its own layer, compared in the same way).
/// </remarks>
internal static class Workloads
{
    /// <summary>2 KiB + 64 B pages, 16 pages a block, 64 blocks (2 MiB).</summary>
    public static FlashGeometry Small => new(2048, 64, 16, 64);

    /// <summary>2 KiB pages, 16 pages a block, 32 blocks (1 MiB): fills up quickly.</summary>
    public static FlashGeometry Tiny => new(2048, 64, 16, 32);

    /// <summary>4 KiB + 128 B pages, 16 pages a block, 32 blocks.</summary>
    public static FlashGeometry Page4K => new(4096, 128, 16, 32, spareFreeLength: 78);

    /// <summary>NOR: 1 KiB pages without spare (tags in the page), 64 pages a block, 64 blocks.</summary>
    public static FlashGeometry Nor => FlashGeometry.Nor(1024, 64, 64);

    /// <summary>Classic small-page SLC NAND: 512 + 16 B pages, 32 pages a block; 16 spare bytes cannot hold the tag, so it goes in band.</summary>
    public static FlashGeometry SmallPage => new(512, 16, 32, 128, spareFreeOffset: 8, spareFreeLength: 8);

    /// <summary>Workloads repeat their pattern this many times: more in the exhaustive profile (at least 100,000 cut points in all).</summary>
    public static int Scale => PowerLossProfile.Exhaustive ? 12 : 3;

    private static readonly Lazy<IReadOnlyList<Workload>> s_all = new(Build);

    public static IReadOnlyList<Workload> All => s_all.Value;

    public static Workload Get(string name) => All.Single(w => w.Name == name);

    private static IReadOnlyList<Workload> Build() =>
    [
        SmallFiles(),
        LargeFiles(),
        AppendLog(),
        OverwriteInPlace(),
        Truncate(),
        Renames(),
        DeleteRecreate(),
        DirectoryTree(),
        RandomMix("random-mix-a", Small, 11, 90 * Scale),
        RandomMix("random-mix-b", Small, 12, 90 * Scale),
        TxnConfigSwap(),
        TxnMixed(),
        GcNearlyFull(),
        GcFreeFloor(),
        GcPacksSmallFiles(),
        StaticWearLevelling(),
        BadBlockProgram(),
        BadBlockErase(),
        CheckpointChurn(),
        IncrementalCheckpoint(),
        DeltaCheckpoints(),
        MaintainIdle(),
        RemountCycles(),
        HandleMultiFlush(),
        OpenHandlesAcrossCheckpoints(),
        InlineTransitions(),
        RandomMix("nand-4k-mix", Page4K, 21, 60 * Scale),
        RandomMix("nor-mix", Nor, 31, 60 * Scale),
        RandomMix("small-page-mix", SmallPage, 41, 60 * Scale),
        WearOut(),
        PoolRefillGc(),
        PoolLargeDevice(),
        .. StackWorkloads.All(),
    ];

    private static Workload SmallFiles()
    {
        var b = new WorkloadBuilder();
        for (int i = 0; i < 24 * Scale; i++)
        {
            b.Write($"/cfg{i}", Data.Pattern(100 + (i * 17), i));
        }

        for (int i = 0; i < 24; i += 3)
        {
            b.Write($"/cfg{i}", Data.Pattern(150 + i, 100 + i));
        }

        for (int i = 1; i < 24; i += 4)
        {
            b.Delete($"/cfg{i}");
        }

        b.Write("/empty", []);
        return new Workload { Name = "small-files", Geometry = Small, Steps = b.Steps };
    }

    private static Workload LargeFiles()
    {
        var b = new WorkloadBuilder();
        b.Write("/image-a.bin", Data.Pattern(96_000, 1));
        b.Write("/image-b.bin", Data.Pattern(61_440, 2));
        b.Write("/image-a.bin", Data.Pattern(80_001, 3));
        b.Delete("/image-b.bin");
        b.Write("/image-c.bin", Data.Pattern(4097, 4));
        b.Write("/image-b.bin", Data.Pattern(120_000, 5));
        return new Workload { Name = "large-files", Geometry = Small, Steps = b.Steps };
    }

    private static Workload AppendLog()
    {
        var b = new WorkloadBuilder();
        b.Write("/log", Data.Pattern(100, 0));
        for (int i = 0; i < 40 * Scale; i++)
        {
            b.Append("/log", Data.Pattern(300 + (i * 97 % 1500), i + 1), pieces: 1 + (i % 3));
        }

        return new Workload { Name = "append-log", Geometry = Small, Steps = b.Steps };
    }

    private static Workload OverwriteInPlace()
    {
        var b = new WorkloadBuilder();
        b.Write("/data", Data.Pattern(50_000, 1));
        var rng = new Random(2);
        for (int i = 0; i < 30 * Scale; i++)
        {
            int len = rng.Next(1, 6000);
            int at = rng.Next(0, 52_000);
            b.Overwrite("/data", at, Data.Pattern(len, 10 + i));
        }

        return new Workload { Name = "overwrite-in-place", Geometry = Small, Steps = b.Steps };
    }

    private static Workload Truncate()
    {
        var b = new WorkloadBuilder();
        b.Write("/t", Data.Pattern(30_000, 1));
        foreach (int len in new[] { 20_000, 20_001, 4096, 100, 0, 9000, 2047, 2049, 40_000, 10 })
        {
            b.SetLength("/t", len);
        }

        b.Overwrite("/t", 5, Data.Pattern(3, 2));
        return new Workload { Name = "truncate", Geometry = Small, Steps = b.Steps };
    }

    private static Workload Renames()
    {
        var b = new WorkloadBuilder();
        b.Mkdir("/a").Mkdir("/b");
        b.Write("/a/x", Data.Pattern(5000, 1)).Write("/a/y", Data.Pattern(200, 2)).Write("/b/z", Data.Pattern(9000, 3));
        b.Rename("/a/x", "/b/x");
        b.Rename("/a/y", "/b/z", replace: true);
        b.Rename("/b/x", "/x");
        b.Rename("/b", "/c");
        b.Mkdir("/c/d");
        b.Rename("/x", "/c/d/x2");
        b.Rename("/c", "/a/c");
        b.Write("/a/c/d/x2", Data.Pattern(7000, 4));
        b.Rename("/a/c/z", "/a/c/d/x2", replace: true);
        return new Workload { Name = "rename", Geometry = Small, Steps = b.Steps };
    }

    private static Workload DeleteRecreate()
    {
        var b = new WorkloadBuilder();
        for (int round = 0; round < 10 * Scale; round++)
        {
            b.Write("/f", Data.Pattern(3000 * ((round % 6) + 1), round));
            b.Write("/g", Data.Pattern(round * 50, round + 50));
            b.Delete("/f");
            if (round % 2 == 1)
            {
                b.Delete("/g");
            }
        }

        return new Workload { Name = "delete-recreate", Geometry = Small, Steps = b.Steps };
    }

    private static Workload DirectoryTree()
    {
        var b = new WorkloadBuilder();
        b.Mkdir("/etc").Mkdir("/etc/net").Mkdir("/etc/net/if").Mkdir("/var").Mkdir("/var/log");
        b.Write("/etc/net/if/eth0", Data.Pattern(400, 1));
        b.Write("/var/log/boot", Data.Pattern(7000, 2));
        b.Mkdir("/tmp");
        b.Rmdir("/tmp");
        b.Delete("/etc/net/if/eth0");
        b.Rmdir("/etc/net/if");
        b.Mkdir("/etc/net/if");
        b.Write("/etc/net/if/eth1", Data.Pattern(300, 3));
        for (int i = 0; i < 8; i++)
        {
            b.Mkdir($"/var/d{i}");
        }

        for (int i = 0; i < 8; i += 2)
        {
            b.Rmdir($"/var/d{i}");
        }

        return new Workload { Name = "mkdir-tree", Geometry = Small, Steps = b.Steps };
    }

    /// <summary>Seeded random mix of every namespace and file operation, valid against the running model.</summary>
    private static Workload RandomMix(string name, FlashGeometry geometry, int seed, int count)
    {
        var b = new WorkloadBuilder();
        var rng = new Random(seed);
        int chunk = geometry.SpareFreeLength >= 32 ? geometry.PageSize : geometry.PageSize - 32;
        int next = 0;
        string NewName(string dir) => (dir == "/" ? "" : dir) + "/n" + next++;
        for (int i = 0; i < count; i++)
        {
            var m = b.Model;
            var files = m.Files.ToList();
            var dirs = m.Directories.Prepend("/").ToList();
            int op = rng.Next(100);
            string dir = dirs[rng.Next(dirs.Count)];
            int size = rng.Next(4) switch { 0 => rng.Next(0, 300), 1 => rng.Next(300, chunk * 2), _ => rng.Next(chunk, chunk * 6) };
            if (op < 25 || files.Count == 0)
            {
                b.Write(NewName(dir), Data.Pattern(size, rng.Next()));
            }
            else if (op < 40)
            {
                b.Write(files[rng.Next(files.Count)], Data.Pattern(size, rng.Next()));
            }
            else if (op < 48)
            {
                b.Append(files[rng.Next(files.Count)], Data.Pattern(rng.Next(1, chunk + 100), rng.Next()), 1 + rng.Next(3));
            }
            else if (op < 55)
            {
                string f = files[rng.Next(files.Count)];
                b.Overwrite(f, rng.Next(0, m.Content(f).Length + 1), Data.Pattern(rng.Next(1, chunk), rng.Next()));
            }
            else if (op < 61)
            {
                string f = files[rng.Next(files.Count)];
                b.SetLength(f, rng.Next(0, (m.Content(f).Length * 2) + 10));
            }
            else if (op < 70)
            {
                b.Delete(files[rng.Next(files.Count)]);
            }
            else if (op < 76)
            {
                if (dirs.Count < 6)
                {
                    b.Mkdir(NewName(dir));
                }
            }
            else if (op < 80)
            {
                var empty = dirs.Where(d => d != "/" && m.IsEmptyDirectory(d)).ToList();
                if (empty.Count > 0)
                {
                    b.Rmdir(empty[rng.Next(empty.Count)]);
                }
            }
            else if (op < 90)
            {
                string f = files[rng.Next(files.Count)];
                string to = rng.Next(3) == 0 && files.Count > 1 ? files[rng.Next(files.Count)] : NewName(dir);
                if (to != f)
                {
                    b.Rename(f, to);
                }
            }
            else
            {
                string p1 = NewName(dir), p2 = files[rng.Next(files.Count)];
                byte[] d1 = Data.Pattern(size, rng.Next()), d2 = Data.Pattern(rng.Next(0, 900), rng.Next());
                string? del = files.Count > 1 ? files.First(f => f != p2) : null;
                b.Transaction("mix", t =>
                {
                    t.WriteAllBytes(p1, d1).WriteAllBytes(p2, d2);
                    if (del is not null)
                    {
                        t.Delete(del);
                    }
                }, mm =>
                {
                    mm.Write(p1, d1);
                    mm.Write(p2, d2);
                    if (del is not null)
                    {
                        mm.Remove(del);
                    }
                });
            }
        }

        return new Workload { Name = name, Geometry = geometry, Seed = (ulong)seed, Steps = b.Steps };
    }

    private static Workload TxnConfigSwap()
    {
        var b = new WorkloadBuilder();
        b.Mkdir("/cfg");
        b.Write("/cfg/active", Data.Pattern(2500, 1)).Write("/cfg/meta", Data.Pattern(64, 2));
        for (int i = 0; i < 16 * Scale; i++)
        {
            byte[] next = Data.Pattern(2000 + (i * 300), 10 + i), meta = Data.Pattern(64, 30 + i);
            b.Transaction($"swap {i}", t => t.WriteAllBytes("/cfg/new", next).Rename("/cfg/active", "/cfg/backup").Rename("/cfg/new", "/cfg/active").WriteAllBytes("/cfg/meta", meta),
                m =>
                {
                    m.Write("/cfg/backup", m.Content("/cfg/active"));
                    m.Write("/cfg/active", next);
                    m.Write("/cfg/meta", meta);
                });
        }

        return new Workload { Name = "txn-config-swap", Geometry = Small, Steps = b.Steps };
    }

    private static Workload TxnMixed()
    {
        var b = new WorkloadBuilder();
        b.Write("/keep", Data.Pattern(900, 1));
        byte[] a = Data.Pattern(12_000, 2), c = Data.Pattern(300, 3), d = Data.Pattern(33_000, 4);
        b.Transaction("mkdir+write", t => t.CreateDirectory("/sw").CreateDirectory("/sw/v1").WriteAllBytes("/sw/v1/app", a).WriteAllBytes("/sw/v1/sgc", c),
            m => { m.Mkdir("/sw"); m.Mkdir("/sw/v1"); m.Write("/sw/v1/app", a); m.Write("/sw/v1/sgc", c); });
        b.Transaction("new version", t => t.CreateDirectory("/sw/v2").WriteAllBytes("/sw/v2/app", d).WriteAllBytes("/sw/v2/sgc", c).Delete("/keep"),
            m => { m.Mkdir("/sw/v2"); m.Write("/sw/v2/app", d); m.Write("/sw/v2/sgc", c); m.Remove("/keep"); });
        b.Transaction("drop old", t => t.Delete("/sw/v1/app").Delete("/sw/v1/sgc").DeleteDirectory("/sw/v1"),
            m => m.Remove("/sw/v1"));
        b.Transaction("big", t =>
        {
            for (int i = 0; i < 6; i++)
            {
                t.WriteAllBytes($"/sw/v2/part{i}", Data.Pattern(5000 * (i + 1), 40 + i));
            }
        }, m =>
        {
            for (int i = 0; i < 6; i++)
            {
                m.Write($"/sw/v2/part{i}", Data.Pattern(5000 * (i + 1), 40 + i));
            }
        });
        b.Transaction("rename-replace", t => t.Rename("/sw/v2/part0", "/sw/v2/part1", replace: true).WriteAllBytes("/sw/v2/part0", c),
            m => { m.Rename("/sw/v2/part0", "/sw/v2/part1"); m.Write("/sw/v2/part0", c); });
        return new Workload { Name = "txn-mixed", Geometry = Small, Steps = b.Steps };
    }

    /// <summary>
    /// Small files written one per page fill more of a 512 KiB device than it has pages: garbage collection must pack
    /// their inline data several to a page while some are rewritten and deleted (cuts land inside packed copies).
    /// </summary>
    private static Workload GcPacksSmallFiles()
    {
        var setup = new WorkloadBuilder();
        for (int i = 0; i < 300; i++)
        {
            setup.Write($"/s{i}", Data.Pattern(200 + (i % 50), i));
        }

        var b = new WorkloadBuilder(setup.Model);
        var rng = new Random(11);
        for (int i = 0; i < 40 * Scale; i++)
        {
            int f = rng.Next(340);
            if (i % 9 == 8 && b.Model.Exists($"/s{f}"))
            {
                b.Delete($"/s{f}");
            }
            else
            {
                b.Write($"/s{f}", Data.Pattern(180 + rng.Next(120), 500 + i));
            }
        }

        return new Workload { Name = "gc-packs-small-files", Geometry = Tiny, Setup = setup.Steps, Steps = b.Steps };
    }

    /// <summary>
    /// Garbage collection at the free floor (issue 19): a reserve of 12 blocks on the 64-block device, so collection
    /// keeps only <c>PacingPolicy.FreeFloor</c> (4) blocks free and the rest of the reserve holds garbage; the volume is
    /// filled to about 90 % of what it lets users store (9 files of 152 KiB; 38 chunks, which a capacity that depended on the last checkpoint written refused after 2 cuts), then random 4 KiB overwrites run with paced collection, small
    /// checkpoints sliced over the operations, and unmounts (whose checkpoint first reclaims whole victims up to its
    /// blocks) every 20 overwrites. Swept at every mutation, even in the quick profile.
    /// </summary>
    private static Workload GcFreeFloor()
    {
        const int files = 9, chunks = 38, chunk = 4096;
        var setup = new WorkloadBuilder();
        for (int f = 0; f < files; f++)
        {
            setup.Write($"/floor{f}", Data.Pattern(chunks * chunk, f));
        }

        var b = new WorkloadBuilder(setup.Model);
        var rng = new Random(19);
        for (int i = 0; i < 80 * Scale; i++)
        {
            int f = rng.Next(files);
            b.Overwrite($"/floor{f}", (long)rng.Next(chunks) * chunk, Data.Pattern(chunk, 1000 + i));
            if (i % 20 == 19)
            {
                b.Remount();
            }
        }

        return new Workload
        {
            Name = "gc-free-floor",
            Geometry = Small,
            MountOptions = new FlashFileSystemOptions { ReservedBlocks = 12, CheckpointIntervalBlocks = 4 },
            Setup = setup.Steps,
            Steps = b.Steps,
            EveryCut = true,
        };
    }

    /// <summary>A nearly full 1 MiB device where every rewrite needs garbage collection.</summary>
    private static Workload GcNearlyFull()
    {
        var setup = new WorkloadBuilder();
        for (int i = 0; i < 14; i++)
        {
            setup.Write($"/fill{i}", Data.Pattern(36_000, i));
        }

        var b = new WorkloadBuilder(setup.Model);
        var rng = new Random(3);
        for (int i = 0; i < 24 * Scale; i++)
        {
            int f = rng.Next(14);
            b.Write($"/fill{f}", Data.Pattern(30_000 + rng.Next(8000), 100 + i));
        }

        return new Workload { Name = "gc-nearly-full", Geometry = Tiny, Setup = setup.Steps, Steps = b.Steps };
    }

    /// <summary>
    /// Issue 19: garbage collection on a nearly full volume with a short checkpoint interval, so that the write pool
    /// runs out between checkpoints and refill anchors are written (cuts land before, in and after them).
    /// </summary>
    private static Workload PoolRefillGc()
    {
        var setup = new WorkloadBuilder();
        for (int i = 0; i < 12; i++)
        {
            setup.Write($"/fill{i}", Data.Pattern(30_000, i));
        }

        var b = new WorkloadBuilder(setup.Model);
        var rng = new Random(19);
        for (int i = 0; i < 10 * Scale; i++)
        {
            int f = rng.Next(12);
            b.Write($"/fill{f}", Data.Pattern(22_000 + rng.Next(8000), 300 + i));
        }

        return new Workload { Name = "pool-refill-gc", Geometry = Tiny, Setup = setup.Steps, Steps = b.Steps, MountOptions = new FlashFileSystemOptions { CheckpointIntervalBlocks = 2 } };
    }

    /// <summary>Issue 19: a 256-block device, where recovery reads the write pool instead of the device.</summary>
    private static Workload PoolLargeDevice()
    {
        var b = new WorkloadBuilder();
        for (int i = 0; i < 12 * Scale; i++)
        {
            b.Write($"/big{i % 9}", Data.Pattern(12_000 + (i * 131 % 9000), 500 + i));
        }

        return new Workload { Name = "pool-large-device", Geometry = new FlashGeometry(2048, 64, 16, 256), Steps = b.Steps, MountOptions = new FlashFileSystemOptions { CheckpointIntervalBlocks = 4 } };
    }

    /// <summary>Cold data that static wear levelling must move while hot files are rewritten.</summary>
    private static Workload StaticWearLevelling()
    {
        var setup = new WorkloadBuilder();
        for (int i = 0; i < 6; i++)
        {
            setup.Write($"/cold{i}", Data.Pattern(30_000, i));
        }

        var b = new WorkloadBuilder(setup.Model);
        for (int i = 0; i < 40 * Scale; i++)
        {
            b.Write($"/hot{i % 2}", Data.Pattern(20_000, 50 + i));
            if (i % 8 == 7)
            {
                b.Maintain(64);
            }
        }

        return new Workload
        {
            Name = "static-wear-levelling",
            Geometry = Tiny,
            MountOptions = new FlashFileSystemOptions { WearLevelingThreshold = 2 },
            Setup = setup.Steps,
            Steps = b.Steps,
        };
    }

    /// <summary>Program failures (grown bad blocks) scheduled on pages the log is about to use.</summary>
    private static Workload BadBlockProgram()
    {
        var b = new WorkloadBuilder();
        b.Write("/a", Data.Pattern(20_000, 1));
        b.Add("schedule program failures", c =>
        {
            // Fail some page of every block, so whatever block the log writes next, a program fails in it.
            for (int blk = 2; blk < c.Device.Geometry.BlockCount; blk += 9)
            {
                c.Device.ScheduleProgramFailure((blk * c.Device.Geometry.PagesPerBlock) + (blk % 5) + 3);
            }
        });
        for (int i = 0; i < 16 * Scale; i++)
        {
            b.Write($"/b{i % 4}", Data.Pattern(9000 + (i * 100), 10 + i));
        }

        b.Remount();
        b.Write("/c", Data.Pattern(5000, 40));
        return new Workload { Name = "bad-block-program", Geometry = Small, Steps = b.Steps };
    }

    /// <summary>Erase failures scheduled on every block: the first erase of each fails and retires it.</summary>
    private static Workload BadBlockErase()
    {
        var setup = new WorkloadBuilder();
        for (int i = 0; i < 8; i++)
        {
            setup.Write($"/f{i}", Data.Pattern(30_000, i));
        }

        var b = new WorkloadBuilder(setup.Model);
        b.Add("schedule erase failures", c =>
        {
            for (int blk = 2; blk < c.Device.Geometry.BlockCount; blk += 7)
            {
                c.Device.ScheduleEraseFailure(blk);
            }
        });
        var rng = new Random(4);
        for (int i = 0; i < 24 * Scale; i++)
        {
            b.Write($"/f{rng.Next(8)}", Data.Pattern(30_000, 100 + i));
        }

        return new Workload { Name = "bad-block-erase", Geometry = Small, Setup = setup.Steps, Steps = b.Steps };
    }

    private static Workload CheckpointChurn()
    {
        var b = new WorkloadBuilder();
        for (int i = 0; i < 40 * Scale; i++)
        {
            b.Write($"/c{i % 7}", Data.Pattern(1000 + (i * 211 % 9000), i));
            if (i % 5 == 4)
            {
                b.Sync();
            }
        }

        return new Workload
        {
            Name = "checkpoint-churn",
            Geometry = Small,
            MountOptions = new FlashFileSystemOptions { CheckpointIntervalBlocks = 1 },
            Steps = b.Steps,
        };
    }

    /// <summary>
    /// Checkpoints written a slice per operation (issue 11): a 300-entry index takes several operations to write, while
    /// those operations overwrite, rename and delete entries that have not had their turn yet (copy-on-write).
    /// </summary>
    private static Workload IncrementalCheckpoint()
    {
        var setup = new WorkloadBuilder();
        setup.Mkdir("/idx");
        for (int i = 0; i < 300; i++)
        {
            setup.Write($"/idx/e{i:D3}", Data.Pattern(24, i));
        }

        var b = new WorkloadBuilder(setup.Model);
        // At most 290 steps: beyond that the rename and delete targets of this sequence start to repeat.
        for (int i = 0; i < Math.Min(30 * Scale, 290); i++)
        {
            int e = (i * 37) % 300;
            switch (i % 5)
            {
                case 0:
                case 1:
                    b.Write($"/idx/e{e:D3}", Data.Pattern(i % 3 == 0 ? 3000 : 40, 500 + i));
                    break;
                case 2:
                    b.Write($"/big{i % 3}", Data.Pattern(9000, 900 + i));
                    break;
                case 3:
                    b.Rename($"/idx/e{e:D3}", $"/idx/r{i:D3}");
                    break;
                default:
                    b.Delete($"/idx/e{(e + 1) % 300:D3}");
                    b.Maintain(3);
                    break;
            }
        }

        return new Workload
        {
            Name = "incremental-checkpoint",
            Geometry = Small,
            MountOptions = new FlashFileSystemOptions { CheckpointIntervalBlocks = 1, MaxForegroundPagesPerOperation = 2 },
            Setup = setup.Steps,
            Steps = b.Steps,
        };
    }

    /// <summary>
    /// Delta checkpoints (format 5, issue 19): checkpoints go base, delta, delta, delta, then a base once the deltas
    /// since the base would reach its size (ski rental), deltas over that base, a remount (the unmount's delta is
    /// mounted as base plus delta; the first checkpoint after it is a base) and deltas again. Deltas list created,
    /// changed, renamed and deleted entries. Small enough that every mutation is a cut point in the quick profile
    /// (DeltaCheckpointWorkloadTests checks both).
    /// </summary>
    internal static Workload DeltaCheckpoints()
    {
        var setup = new WorkloadBuilder();
        setup.Mkdir("/idx");
        for (int i = 0; i < 120; i++)
        {
            setup.Write($"/idx/e{i:D3}", Data.Pattern(24, i));
        }

        // A big file whose partial overwrites the deltas record as entry patches (the changed chunk runs).
        setup.Write("/big", Data.Pattern(40 * 2048, 900));

        var b = new WorkloadBuilder(setup.Model);
        b.Sync();                                               // a base: none is known after a mount
        b.Write("/idx/e000", Data.Pattern(40, 1000));
        b.Overwrite("/big", 5 * 2048, Data.Pattern(2048, 901));
        b.Sync();                                               // a delta (with a patch of /big)
        b.Write("/idx/e001", Data.Pattern(41, 1001));
        b.Overwrite("/big", (20 * 2048) + 100, Data.Pattern(3000, 902));
        b.Overwrite("/big", 6 * 2048, Data.Pattern(10, 903));
        b.Rename("/idx/e002", "/idx/r002");
        b.Sync();                                               // a delta, cumulative
        b.Delete("/idx/e003");
        b.Write("/new0", Data.Pattern(600, 1002));
        b.Sync();                                               // a delta with a deleted entry
        for (int i = 10; i < 90; i++)
        {
            b.Write($"/idx/e{i:D3}", Data.Pattern(30, 1100 + i));
        }

        b.Sync();                                               // the next delta would exceed half the base: a base
        b.Write("/idx/e004", Data.Pattern(42, 1003));
        b.Overwrite("/big", 30 * 2048, Data.Pattern(4096, 904));
        b.Overwrite("/big", (40 * 2048) - 10, Data.Pattern(2100, 905)); // and grown by a chunk
        b.Delete("/new0");
        b.Sync();                                               // a delta over the new base
        b.Mkdir("/d");
        b.Remount();                                            // the unmount's delta; mounted as base plus delta
        b.Write("/d/f", Data.Pattern(700, 1004));
        b.Sync();                                               // a base again
        b.Write("/idx/e005", Data.Pattern(43, 1005));
        b.Overwrite("/big", 2 * 2048, Data.Pattern(2048, 906));
        b.Sync();                                               // a delta
        return new Workload
        {
            Name = "delta-checkpoints",
            Geometry = Small,
            MountOptions = new FlashFileSystemOptions { CheckpointIntervalBlocks = 64 },
            Setup = setup.Steps,
            Steps = b.Steps,
        };
    }

    private static Workload MaintainIdle()
    {
        var setup = new WorkloadBuilder();
        for (int i = 0; i < 10; i++)
        {
            setup.Write($"/m{i}", Data.Pattern(20_000, i));
        }

        var b = new WorkloadBuilder(setup.Model);
        for (int i = 0; i < 10 * Scale; i++)
        {
            b.Write($"/m{i % 10}", Data.Pattern(10_000, 20 + i));
            if (i % 2 == 1)
            {
                b.Delete($"/m{(i - 1) % 10}");
                b.Maintain(16);
            }
        }

        b.Maintain(1000);
        return new Workload { Name = "maintain-idle", Geometry = Tiny, Setup = setup.Steps, Steps = b.Steps };
    }

    private static Workload RemountCycles()
    {
        var b = new WorkloadBuilder();
        for (int i = 0; i < 12 * Scale; i++)
        {
            b.Write($"/r{i % 3}", Data.Pattern(4000 + (i * 1000), i));
            b.Mkdir($"/d{i}");
            b.Remount();
        }

        return new Workload { Name = "remount-cycles", Geometry = Small, Steps = b.Steps };
    }

    /// <summary>One handle kept open across several flushes; each flush is one commit.</summary>
    private static Workload HandleMultiFlush()
    {
        var b = new WorkloadBuilder();
        var content = new List<byte>();
        // Opening creates the file in RAM only: it becomes durable with the first flush.
        b.Add("open /h", c => c.Handles["/h"] = c.Fs.Open("/h", FlashFileMode.Create));
        for (int i = 0; i < 20 * Scale; i++)
        {
            byte[] piece = Data.Pattern(700 + (i * 450 % 9000), i);
            long at = i % 4 == 3 || content.Count > 150_000 ? content.Count / 2 : content.Count;
            Data.Place(content, at, piece);

            byte[] snapshot = [.. content];
            b.Add($"write+flush {i}", c =>
            {
                var h = c.Handles["/h"];
                h.Position = at;
                h.Write(piece);
                h.Flush();
            }, m => m.Write("/h", snapshot));
        }

        b.Add("close /h", c => c.Handles["/h"].Dispose());
        return new Workload { Name = "handle-multi-flush", Geometry = Small, Steps = b.Steps };
    }

    /// <summary>
    /// Handles that hold uncommitted writes while checkpoints are taken (incremental ones every block, and Sync): an
    /// overwrite of a chunked file, a file the handle created, an inline file growing into chunks, a truncation by
    /// <see cref="FlashFileMode.Create"/> and one by SetLength (both log a record before the commit). A cut before a
    /// handle's flush must leave its file as last committed; after it, with every write, including those made before
    /// the checkpoints.
    /// </summary>
    private static Workload OpenHandlesAcrossCheckpoints()
    {
        var setup = new WorkloadBuilder();
        for (int i = 0; i < 10; i++)
        {
            // Half the volume is static, so garbage collection runs while the handles are open.
            setup.Write($"/static{i}", Data.Pattern(100_000, 900 + i));
        }

        setup.Write("/a", Data.Pattern(40_000, 1));
        setup.Write("/c", Data.Pattern(300, 2));
        setup.Write("/d", Data.Pattern(30_000, 3));
        setup.Write("/e", Data.Pattern(50_000, 4));
        var b = new WorkloadBuilder(setup.Model);
        for (int round = 0; round < Scale; round++)
        {
            string created = $"/b{round}";
            var content = new Dictionary<string, List<byte>>
            {
                ["/a"] = [.. b.Model.Content("/a")],
                [created] = [],
                ["/c"] = [.. b.Model.Content("/c")],
                ["/d"] = [],
                ["/e"] = [.. b.Model.Content("/e").AsSpan(0, 20_000)],
            };
            b.Add($"open round {round}", c =>
            {
                c.Handles["/a"] = c.Fs.Open("/a");
                c.Handles["/b"] = c.Fs.Open(created, FlashFileMode.Create);
                c.Handles["/c"] = c.Fs.Open("/c", FlashFileMode.Append);
                c.Handles["/d"] = c.Fs.Open("/d", FlashFileMode.Create);
                c.Handles["/e"] = c.Fs.Open("/e");
                c.Handles["/e"].SetLength(20_000);
            });

            for (int i = 0; i < 6; i++)
            {
                var pieces = new List<(string Handle, long At, byte[] Data)>
                {
                    ("/a", 3000 + (i * 7000), Data.Pattern(5000, (round * 100) + i)),
                    ("/b", content[created].Count, Data.Pattern(3000 + (i * 500), (round * 100) + 10 + i)),
                    ("/c", content["/c"].Count, Data.Pattern(250, (round * 100) + 20 + i)),
                    ("/d", content["/d"].Count, Data.Pattern(4000, (round * 100) + 30 + i)),
                    ("/e", 25_000 + (i * 3000), Data.Pattern(2000, (round * 100) + 40 + i)),
                };
                foreach (var (handle, at, data) in pieces)
                {
                    Data.Place(content[handle == "/b" ? created : handle], at, data);
                }

                b.Add($"unflushed writes {round}.{i}", c =>
                {
                    foreach (var (handle, at, data) in pieces)
                    {
                        var h = c.Handles[handle];
                        h.Position = at;
                        h.Write(data);
                    }
                });

                // Committed churn fills blocks, so checkpoints start (and finish) while the handles hold their writes.
                b.Write($"/x{i % 3}", Data.Pattern(9000 + (i * 1000), (round * 100) + 50 + i));
                if (i == 3)
                {
                    b.Sync();
                }
            }

            foreach (var (handle, path) in new[] { ("/a", "/a"), ("/b", created), ("/c", "/c"), ("/d", "/d"), ("/e", "/e") })
            {
                byte[] final = [.. content[path]];
                b.Add($"flush {path}", c =>
                {
                    c.Handles[handle].Flush();
                    c.Handles[handle].Dispose();
                }, m => m.Write(path, final));
            }
        }

        return new Workload
        {
            Name = "open-handles-across-checkpoints",
            Geometry = Small,
            MountOptions = new FlashFileSystemOptions { CheckpointIntervalBlocks = 1, MaxForegroundPagesPerOperation = 4 },
            Setup = setup.Steps,
            Steps = b.Steps,
        };
    }

    /// <summary>A file growing from inline to chunked and back by appends and truncation.</summary>
    private static Workload InlineTransitions()
    {
        var b = new WorkloadBuilder();
        b.Write("/i", Data.Pattern(10, 1));
        for (int i = 0; i < 8; i++)
        {
            b.Append("/i", Data.Pattern(150 + (i * 90), 2 + i));
        }

        b.SetLength("/i", 50);
        b.Append("/i", Data.Pattern(3000, 20));
        b.SetLength("/i", 400);
        b.Write("/i", Data.Pattern(511, 21));
        b.Write("/i", Data.Pattern(2048, 22));
        return new Workload { Name = "inline-transitions", Geometry = Small, Steps = b.Steps };
    }

    /// <summary>Blocks wearing out: a low endurance makes erases fail and blocks retire while data is rewritten.</summary>
    private static Workload WearOut()
    {
        // Not scaled with the profile: past about 150 rewrites the 12-erase endurance leaves no good block for the
        // recorded run itself.
        var b = new WorkloadBuilder();
        for (int i = 0; i < 150; i++)
        {
            b.Write($"/w{i % 3}", Data.Pattern(16_000, i));
        }

        return new Workload
        {
            Name = "wear-out",
            MayBeFull = true,
            Geometry = Tiny,
            Tweak = o => new FlashSimulatorOptions { Geometry = o.Geometry, Seed = o.Seed, EccSectorSize = o.EccSectorSize, EnduranceCycles = 12 },
            Steps = b.Steps,
        };
    }
}
