using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;
using FsCheck.Xunit;

namespace Flash.Tests.PowerLoss;

/// <summary>
/// Model-based FsCheck property with power cuts as generated operations: a random sequence of writes, deletes,
/// renames, transactions and cuts runs against the volume and an <see cref="FsModel"/>; after every cut the mounted
/// volume must equal the model before or after the interrupted operation, and fsck must be clean. FsCheck shrinks a
/// failing sequence (the array of encoded operations) to a minimal one.
/// </summary>
public class PowerCutModelProperties
{
    private const int Files = 6;

    [Property(MaxTest = 60)]
    public void Random_operations_with_power_cuts_match_the_model((byte Kind, byte A, ushort B)[] ops)
    {
        using var dev = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = new FlashGeometry(2048, 64, 16, 48), Seed = 3 });
        FlashFileSystem.Format(dev);
        var fs = FlashFileSystem.Mount(dev);
        var model = new FsModel();
        var log = new List<string>();
        foreach (var (kind, a, b) in ops.Take(60))
        {
            string f = "/f" + (a % Files), g = "/f" + (b % Files);
            var before = model.Clone();
            Action run;
            switch (kind % 6)
            {
                case 0:
                case 1:
                {
                    var data = Data.Pattern(b % 20_000, a + b);
                    run = () => fs.WriteAllBytes(f, data);
                    model.Write(f, data);
                    log.Add($"write {f} {data.Length}");
                    break;
                }

                case 2:
                    if (!model.IsFile(f))
                    {
                        continue;
                    }

                    run = () => fs.Delete(f);
                    model.Remove(f);
                    log.Add($"delete {f}");
                    break;
                case 3:
                    if (!model.IsFile(f) || f == g)
                    {
                        continue;
                    }

                    run = () => fs.Rename(f, g, replace: true);
                    model.Rename(f, g);
                    log.Add($"rename {f} {g}");
                    break;
                case 4:
                {
                    var d1 = Data.Pattern(b % 5000, a);
                    var d2 = Data.Pattern(a * 10, b);
                    run = () =>
                    {
                        using var t = fs.BeginTransaction();
                        t.WriteAllBytes(f, d1).WriteAllBytes("/t", d2).Commit();
                    };
                    model.Write(f, d1);
                    model.Write("/t", d2);
                    log.Add($"txn {f} {d1.Length} /t {d2.Length}");
                    break;
                }

                default:
                    dev.CutPowerAfter(1 + (b % 40));
                    log.Add($"cut after {1 + (b % 40)}");
                    continue;
            }

            try
            {
                run();
            }
            catch (PowerLossException)
            {
                dev.CancelPowerCut();
                dev.PowerUp();
                fs = FlashFileSystem.Mount(dev);
                var seen = FsModel.Read(fs);
                if (!seen.SameAs(before) && !seen.SameAs(model))
                {
                    throw new InvalidOperationException($"after a cut in '{log[^1]}' the volume is neither before ({before.Diff(seen)}) nor after ({model.Diff(seen)}); ops: {string.Join(", ", log)}");
                }

                model = seen;
                var report = fs.Check();
                if (!report.IsClean)
                {
                    throw new InvalidOperationException($"fsck after a cut in '{log[^1]}': {report}; ops: {string.Join(", ", log)}");
                }
            }
            catch (FlashNoSpaceException)
            {
                model = before;
            }
        }

        dev.CancelPowerCut();
        fs.Unmount();
        fs = FlashFileSystem.Mount(dev);
        if (model.Diff(FsModel.Read(fs)) is { } diff)
        {
            throw new InvalidOperationException($"final state: {diff}; ops: {string.Join(", ", log)}");
        }

        Assert.True(fs.Check().IsClean);
        fs.Unmount();
    }
}
