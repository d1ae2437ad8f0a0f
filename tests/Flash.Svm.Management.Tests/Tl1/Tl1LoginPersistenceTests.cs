#pragma warning disable xUnit1051 // SVM calls are synchronous.
using Flash.Svm.Management.Tl1;

namespace Flash.Svm.Management.Tests.Tl1;

/// <summary>Failed log-in counts and lockouts are stored in NVS: a restart or a power cut gives no fresh attempts, and a lockout still expires.</summary>
public sealed class Tl1LoginPersistenceTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task FailuresAndTheLockSurviveARestartAndTheLockExpires()
    {
        var clock = new ManualClock(T0);
        await using var f = AgentFixture.Start(tweak: o => new Tl1AgentOptions
        {
            Endpoint = o.Endpoint, Sid = o.Sid, Bus = o.Bus, ModuleHealthTimeout = o.ModuleHealthTimeout, Time = clock,
            MaxLoginFailures = 3, Lockout = TimeSpan.FromMinutes(5),
        });
        await using (var c = await Tl1Client.ConnectAsync(f.Endpoint))
        {
            Assert.Contains("PIUI", await c.CommandAsync("ACT-USER::VIEWER:1::wrong;", "1"), StringComparison.Ordinal);
            Assert.Contains("PIUI", await c.CommandAsync("ACT-USER::VIEWER:2::wrong;", "2"), StringComparison.Ordinal);
            // A UID that is no account gets the same answers but is never written to flash.
            Assert.Contains("PIUI", await c.CommandAsync("ACT-USER::NOBODY:2a::wrong;", "2a"), StringComparison.Ordinal);
        }

        // N-1 failures, then the node restarts: the third failure still locks.
        await f.RestartAsync();
        var stored = new NvsTl1LoginStore(f.Node.Svm).Read();
        Assert.Equal(("VIEWER", 2), (Assert.Single(stored).User, stored[0].Failures));
        await using (var c = await Tl1Client.ConnectAsync(f.Endpoint))
        {
            Assert.Contains("PIUL", await c.CommandAsync("ACT-USER::VIEWER:3::wrong;", "3"), StringComparison.Ordinal);
        }

        // Locked across another restart, even with the right password.
        await f.RestartAsync();
        clock.Now = T0 + TimeSpan.FromMinutes(4);
        await using (var c = await Tl1Client.ConnectAsync(f.Endpoint))
        {
            Assert.Contains("PIUL", await c.CommandAsync($"ACT-USER::VIEWER:4::{AgentFixture.ViewerPassword};", "4"), StringComparison.Ordinal);
        }

        // The lockout ends at its stored time; a success clears the stored entry.
        clock.Now = T0 + TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1);
        await using (var c = await Tl1Client.ConnectAsync(f.Endpoint))
        {
            Assert.Contains("COMPLD", await c.CommandAsync($"ACT-USER::VIEWER:5::{AgentFixture.ViewerPassword};", "5"), StringComparison.Ordinal);
        }

        Assert.Empty(new NvsTl1LoginStore(f.Node.Svm).Read());
    }

    [Fact]
    public void TheFailurePolicyCountsLocksAndStartsOverAfterAnExpiredLock()
    {
        var lockout = TimeSpan.FromMinutes(5);
        var e1 = Tl1LoginGuard.AfterFailure(null, "U", T0, 3, lockout);
        Assert.Equal(new Tl1LoginEntry("U", 1, DateTimeOffset.UnixEpoch, T0), e1);
        var e3 = Tl1LoginGuard.AfterFailure(Tl1LoginGuard.AfterFailure(e1, "U", T0, 3, lockout), "U", T0, 3, lockout);
        Assert.Equal(new Tl1LoginEntry("U", 0, T0 + lockout, T0), e3);
        var later = T0 + lockout + TimeSpan.FromSeconds(1);
        Assert.Equal(new Tl1LoginEntry("U", 1, DateTimeOffset.UnixEpoch, later), Tl1LoginGuard.AfterFailure(e3, "U", later, 3, lockout));
    }

    [Fact]
    public void TheRecordRoundTripsAndRefusesEveryCorruption()
    {
        var entries = new List<Tl1LoginEntry> { new("ADMIN", 2, DateTimeOffset.UnixEpoch, T0), new("VIEWER", 0, T0.AddMinutes(5), T0) };
        var data = Tl1LoginRecord.Encode(entries);
        Assert.Equal(8 + (19 + 5) + (19 + 6) + 4, data.Length);
        Assert.Equal(entries, Tl1LoginRecord.Decode(data));
        Assert.Empty(Tl1LoginRecord.Decode(Tl1LoginRecord.Encode([])));
        for (int bit = 0; bit < data.Length * 8; bit++)
        {
            var bad = (byte[])data.Clone();
            bad[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Throws<SvmFormatException>(() => Tl1LoginRecord.Decode(bad));
        }

        for (int n = 0; n < data.Length; n++)
        {
            Assert.Throws<SvmFormatException>(() => Tl1LoginRecord.Decode(data.AsSpan(0, n)));
        }

        Assert.Throws<ArgumentException>(() => Tl1LoginRecord.Encode([new("", 1, T0, T0)]));
        Assert.Throws<ArgumentException>(() => Tl1LoginRecord.Encode([.. Enumerable.Range(0, 65).Select(i => new Tl1LoginEntry($"U{i}", 1, T0, T0))]));
    }

    [Fact]
    public void TheTableIsBoundedAndForgetsUnlockedEntriesFirst()
    {
        var store = new MemoryTl1LoginStore();
        var clock = new ManualClock(T0);
        var guard = new Tl1LoginGuard(2, TimeSpan.FromMinutes(5), clock, store);
        guard.Fail("LOCKED");
        guard.Fail("LOCKED");
        for (int i = 0; i < 100; i++)
        {
            clock.Now = T0.AddSeconds(i + 1);
            guard.Fail($"PROBE{i}");
        }

        var kept = store.Read();
        Assert.Equal(Tl1LoginRecord.MaxEntries, kept.Count);
        Assert.Contains(kept, e => e.User == "LOCKED");
        Assert.Contains(kept, e => e.User == "PROBE99");
        Assert.True(new Tl1LoginGuard(2, TimeSpan.FromMinutes(5), clock, store).IsLocked("LOCKED"));
    }

    [Fact]
    public void ProbesWithInventedNamesAreNotStoredAndNeverPushOutAnAccountsCount()
    {
        var store = new MemoryTl1LoginStore();
        var clock = new ManualClock(T0);
        var guard = new Tl1LoginGuard(3, TimeSpan.FromMinutes(5), clock, store);
        guard.Fail("ADMIN");
        guard.Fail("ADMIN");
        for (int i = 0; i < 200; i++)
        {
            clock.Now = T0.AddSeconds(i + 1);
            Assert.False(guard.Fail($"PROBE{i}", isAccount: false));
            Assert.False(guard.Fail($"PROBE{i}", isAccount: false));
            Assert.True(guard.Fail($"PROBE{i}", isAccount: false)); // locked like an account: the answer does not tell
        }

        Assert.Equal(2, Assert.Single(store.Read()).Failures);
        Assert.Equal(Tl1LoginRecord.MaxEntries, guard.Entries.Count);
        Assert.True(guard.Fail("ADMIN"));
        Assert.True(new Tl1LoginGuard(3, TimeSpan.FromMinutes(5), clock, store).IsLocked("ADMIN"));
    }

    [Fact]
    public void AFailureOfANoAccountUidIsDelayedLikeAStoredOne()
    {
        var guard = new Tl1LoginGuard(100, TimeSpan.FromMinutes(5), TimeProvider.System, new SlowStore(TimeSpan.FromMilliseconds(80)));
        for (int i = 0; i < 8; i++)
        {
            guard.Fail("ADMIN");
        }

        // The moving average has nearly reached the store's 80 ms; only a lower bound is checked (slow machines only add).
        var t = System.Diagnostics.Stopwatch.StartNew();
        guard.Fail("NOBODY", isAccount: false);
        Assert.True(t.Elapsed >= TimeSpan.FromMilliseconds(50), $"{t.Elapsed.TotalMilliseconds} ms");
    }

    [Fact]
    public void APowerCutWhileStoringAFailureLeavesTheOldOrTheNewCount()
    {
        long mutations;
        using (var dry = new ManagedNode())
        {
            var g = new Tl1LoginGuard(5, TimeSpan.FromMinutes(5), TimeProvider.System, new NvsTl1LoginStore(dry.Svm));
            g.Fail("ADMIN");
            long before = dry.Dev0.MutationCount + dry.Dev1.MutationCount;
            g.Fail("ADMIN");
            mutations = dry.Dev0.MutationCount + dry.Dev1.MutationCount - before;
        }

        Assert.True(mutations > 0);
        int step = int.Parse(Environment.GetEnvironmentVariable("FLASH_MGMT_CUT_STEP") ?? "1", System.Globalization.CultureInfo.InvariantCulture);
        for (long k = 1; k <= mutations; k += step)
        {
            using var node = new ManagedNode();
            var g = new Tl1LoginGuard(5, TimeSpan.FromMinutes(5), TimeProvider.System, new NvsTl1LoginStore(node.Svm));
            g.Fail("ADMIN");
            var dev = k <= mutations / 2 ? node.Dev0 : node.Dev1;
            dev.CutPowerAfter(dev == node.Dev0 ? k : k - mutations / 2);
            try
            {
                g.Fail("ADMIN");
            }
            catch (IOException)
            {
                // The cut.
            }

            node.Restart();
            var after = new Tl1LoginGuard(5, TimeSpan.FromMinutes(5), TimeProvider.System, new NvsTl1LoginStore(node.Svm)).Entries;
            Assert.InRange(Assert.Single(after).Failures, 1, 2);
        }
    }

    private sealed class SlowStore(TimeSpan delay) : ITl1LoginStore
    {
        public IReadOnlyList<Tl1LoginEntry> Read() => [];

        public void Write(IReadOnlyCollection<Tl1LoginEntry> entries) => Thread.Sleep(delay);
    }

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
