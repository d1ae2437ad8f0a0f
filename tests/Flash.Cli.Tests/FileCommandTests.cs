using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Flash.Cli.Tests;

/// <summary>flashctl's volume commands on nanddump image files, run as a process.</summary>
public sealed class FileCommandTests : IDisposable
{
    private const int PageStride = 2048 + 64;
    private const int PagesPerBlock = 16;
    private readonly FlashCtlRunner _ctl = new();

    public void Dispose() => _ctl.Dispose();

    private string NewVolume(int blocks = 64)
    {
        _ctl.Expect(0, "format", "vol.img", "--create", blocks.ToString(System.Globalization.CultureInfo.InvariantCulture), "--label", "test");
        return "vol.img";
    }

    [Fact]
    public void Put_then_cat_and_get_return_the_bytes_written()
    {
        string img = NewVolume();
        var content = RandomNumberGenerator.GetBytes(10_000);
        File.WriteAllBytes(_ctl.PathOf("in.bin"), content);
        _ctl.Expect(0, "mkdir", img, "/cfg/deep", "-p");
        _ctl.Expect(0, "put", img, "in.bin", "/cfg/deep/data.bin");

        _ctl.Expect(0, "get", img, "/cfg/deep/data.bin", "out.bin");
        Assert.Equal(content, File.ReadAllBytes(_ctl.PathOf("out.bin")));

        var ls = _ctl.Expect(0, "ls", img, "/", "-R", "--json").Json.AsArray();
        var file = ls.Single(e => e!["path"]!.GetValue<string>() == "/cfg/deep/data.bin")!;
        Assert.Equal("file", file["type"]!.GetValue<string>());
        Assert.Equal(content.Length, file["length"]!.GetValue<long>());
        Assert.Contains(ls, e => e!["path"]!.GetValue<string>() == "/cfg/deep" && e["type"]!.GetValue<string>() == "directory");

        var stat = _ctl.Expect(0, "stat", img, "/cfg/deep/data.bin", "--json").Json;
        Assert.Equal(content.Length, stat["length"]!.GetValue<long>());
    }

    [Fact]
    public void Cat_writes_binary_content_byte_for_byte_to_stdout()
    {
        string img = NewVolume();
        var content = RandomNumberGenerator.GetBytes(3000);
        File.WriteAllBytes(_ctl.PathOf("in.bin"), content);
        _ctl.Expect(0, "put", img, "in.bin", "/blob");

        // Read stdout as raw bytes (the runner decodes text), through a shell redirect.
        var start = new System.Diagnostics.ProcessStartInfo("sh") { WorkingDirectory = _ctl.Folder, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"dotnet \"$0\" cat {img} /blob --pages-per-block 16 > cat.bin");
        start.ArgumentList.Add(typeof(FlashCtlRunner).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "FlashCtlPath").Value!);
        using var p = System.Diagnostics.Process.Start(start)!;
        Assert.True(p.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Equal(0, p.ExitCode);
        Assert.Equal(content, File.ReadAllBytes(_ctl.PathOf("cat.bin")));
    }

    [Fact]
    public void Rm_recursive_removes_a_tree_in_one_transaction()
    {
        string img = NewVolume();
        File.WriteAllText(_ctl.PathOf("a.txt"), "a");
        _ctl.Expect(0, "mkdir", img, "/t/u", "-p");
        _ctl.Expect(0, "put", img, "a.txt", "/t/u/a.txt");
        _ctl.Expect(0, "put", img, "a.txt", "/t/b.txt");
        _ctl.Expect(5, "rm", img, "/t"); // not empty without -r
        var removed = _ctl.Expect(0, "rm", img, "/t", "-r", "--json").Json["removed"]!.AsArray();
        Assert.Equal(4, removed.Count);
        Assert.Empty(_ctl.Expect(0, "ls", img, "--json").Json.AsArray());
    }

    [Fact]
    public void Failures_have_their_documented_exit_codes_and_leave_the_image_untouched()
    {
        string img = NewVolume();
        var before = SHA256.HashData(File.ReadAllBytes(_ctl.PathOf(img)));
        File.WriteAllText(_ctl.PathOf("a.txt"), "a");

        var missing = _ctl.Expect(4, "cat", img, "/nope", "--json");
        Assert.Equal("not-found", missing.Json["error"]!["name"]!.GetValue<string>());
        _ctl.Expect(4, "put", img, "a.txt", "/no/such/dir/a.txt");
        _ctl.Expect(4, "put", img, "missing-host-file", "/a.txt");
        _ctl.Expect(9, "format", img, "--create", "8");
        _ctl.Expect(2, "no-such-command");
        _ctl.Expect(2, "ls");
        _ctl.Expect(3, "ls", img, "--pages-per-block", "7");
        Assert.Equal(before, SHA256.HashData(File.ReadAllBytes(_ctl.PathOf(img))));

        File.WriteAllBytes(_ctl.PathOf("blank.img"), Erased(8));
        _ctl.Expect(5, "ls", "blank.img");
    }

    [Fact]
    public void Fsck_finds_a_damaged_page_and_cat_refuses_to_return_other_bytes()
    {
        string img = NewVolume();
        var content = RandomNumberGenerator.GetBytes(2048 * 3);
        File.WriteAllBytes(_ctl.PathOf("in.bin"), content);
        _ctl.Expect(0, "put", img, "in.bin", "/victim");
        var clean = _ctl.Expect(0, "fsck", img, "--json").Json;
        Assert.True(clean["clean"]!.GetValue<bool>());

        var image = File.ReadAllBytes(_ctl.PathOf(img));
        int at = image.AsSpan().IndexOf(content.AsSpan(2048, 64));
        Assert.True(at >= 0, "the file's second page is stored verbatim");
        image[at + 100] ^= 0x5A;
        File.WriteAllBytes(_ctl.PathOf(img), image);

        var report = _ctl.Expect(6, "fsck", img, "--json").Json;
        Assert.False(report["clean"]!.GetValue<bool>());
        Assert.Contains(report["problems"]!.AsArray(), p => p!["path"]?.GetValue<string>() == "/victim");
        var cat = _ctl.Run("cat", img, "/victim");
        Assert.NotEqual(0, cat.ExitCode);
    }

    [Fact]
    public void Info_reports_geometry_bad_blocks_and_the_volume()
    {
        var blank = Erased(32);
        int badBlock = 5;
        blank[badBlock * PagesPerBlock * PageStride + 2048] = 0x00; // bad-block marker in the first page's spare
        File.WriteAllBytes(_ctl.PathOf("raw.img"), blank);

        var info = _ctl.Expect(0, "info", "raw.img", "--scan", "--json").Json;
        Assert.Equal(32, info["geometry"]!["blocks"]!.GetValue<int>());
        Assert.Equal(2048, info["geometry"]!["pageSize"]!.GetValue<int>());
        Assert.Equal([badBlock], info["badBlocks"]!.AsArray().Select(b => b!.GetValue<int>()));
        Assert.False(info["volume"]!["present"]!.GetValue<bool>());
        Assert.Equal(31 * PagesPerBlock, info["scan"]!["clean"]!.GetValue<long>());

        _ctl.Expect(0, "format", "raw.img", "--label", "x");
        var after = _ctl.Expect(0, "info", "raw.img", "--json").Json;
        Assert.True(after["volume"]!["present"]!.GetValue<bool>());
        Assert.Equal("x", after["volume"]!["label"]!.GetValue<string>());
        Assert.Equal([badBlock], after["badBlocks"]!.AsArray().Select(b => b!.GetValue<int>()));
    }

    [Fact]
    public void Wear_map_writes_an_svg_with_one_square_per_block_and_the_counts()
    {
        var blank = Erased(32);
        blank[3 * PagesPerBlock * PageStride + 2048] = 0x00;
        File.WriteAllBytes(_ctl.PathOf("w.img"), blank);
        _ctl.Expect(0, "format", "w.img");
        File.WriteAllBytes(_ctl.PathOf("in.bin"), RandomNumberGenerator.GetBytes(20_000));
        for (int i = 0; i < 6; i++)
        {
            _ctl.Expect(0, "put", "w.img", "in.bin", "/f");
        }

        var map = _ctl.Expect(0, "wear-map", "w.img", "--svg", "wear.svg", "--json").Json;
        var counts = map["eraseCounts"]!.AsArray();
        Assert.Equal(32, counts.Count);
        Assert.Null(counts[3]);
        Assert.True(map["max"]!.GetValue<long>() >= 1);
        string svg = File.ReadAllText(_ctl.PathOf("wear.svg"));
        Assert.StartsWith("<svg", svg, StringComparison.Ordinal);
        Assert.Equal(32, svg.Split("<rect ").Length - 1);
        Assert.Contains("data-block=\"3\" data-erases=\"bad\"", svg, StringComparison.Ordinal);

        var heat = _ctl.Expect(0, "wear-map", "w.img");
        Assert.Contains("█", heat.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_mtd_device_is_a_device_error()
        => Assert.Equal("device", _ctl.Expect(3, "info", "/dev/mtd-none", "--json").Json["error"]!["name"]!.GetValue<string>());

    [Fact]
    public void Info_reads_a_real_mtd_device_when_one_is_given()
    {
        string? device = Environment.GetEnvironmentVariable("FLASH_MTD_DEVICE");
        if (device is null)
        {
            Assert.Skip("FLASH_MTD_DEVICE is not set: no real MTD device for flashctl (tools/mtd-vm/run provides one in a VM).");
        }

        var info = _ctl.Expect(0, "info", device, "--json").Json;
        Assert.Equal("mtd", info["kind"]!.GetValue<string>());
        Assert.True(info["geometry"]!["blocks"]!.GetValue<int>() > 0);
        Assert.NotNull(info["mtdEcc"]);
    }

    private static byte[] Erased(int blocks)
    {
        var image = new byte[blocks * PagesPerBlock * PageStride];
        image.AsSpan().Fill(0xFF);
        return image;
    }
}
