using System.Security.Cryptography;

namespace Flash.Cli.Tests;

/// <summary>flashctl's package commands (keygen, create, sign, verify, show), run as a process.</summary>
public sealed class PackageCommandTests : IDisposable
{
    private readonly FlashCtlRunner _ctl = new();

    public void Dispose() => _ctl.Dispose();

    [Fact]
    public void Keygen_create_sign_verify_show()
    {
        _ctl.Expect(0, "keygen", "--key", "k.pem");
        _ctl.Expect(0, "keygen", "--key", "other.pem");
        _ctl.Expect(9, "keygen", "--key", "k.pem"); // never overwrites a key
        ReleaseFolder.Write(_ctl, "rel", "1.2.3");

        var created = _ctl.Expect(0, "create", "--sgc", "rel/sgc.json", "-o", "r.pkg", "--json");
        Assert.False(created.Json["signed"]!.GetValue<bool>());
        Assert.Contains("unsigned", created.Stderr, StringComparison.Ordinal);
        Assert.Equal("package-rejected", _ctl.Expect(7, "verify", "r.pkg", "--trust", "k.pem.pub", "--json").Json["error"]!["name"]!.GetValue<string>());

        _ctl.Expect(0, "sign", "r.pkg", "--key", "k.pem");
        _ctl.Expect(0, "verify", "r.pkg", "--trust", "k.pem.pub");
        _ctl.Expect(0, "verify", "r.pkg", "--trust", "other.pem.pub", "--trust", "k.pem.pub");
        _ctl.Expect(7, "verify", "r.pkg", "--trust", "other.pem.pub");
        _ctl.Expect(7, "verify", "r.pkg", "--trust", "k.pem.pub", "--floor", "2.0.0");

        var show = _ctl.Expect(0, "show", "r.pkg", "--json").Json;
        Assert.Equal("1.2.3", show["release"]!.GetValue<string>());
        Assert.Equal("not checked (give --trust)", show["signature"]!.GetValue<string>());
        var fpga = show["components"]!.AsArray().Single(c => c!["name"]!.GetValue<string>() == "fpga.bit")!;
        Assert.Equal("Fpga:FPGA0", fpga["device"]!.GetValue<string>());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(_ctl.PathOf("rel/fpga.bit")))), fpga["sha256"]!.GetValue<string>());
        Assert.Equal(2, show["mappings"]!.AsArray().Count);
        Assert.Equal("valid (trusted key)", _ctl.Expect(0, "show", "r.pkg", "--trust", "k.pem.pub", "--json").Json["signature"]!.GetValue<string>());
    }

    [Fact]
    public void A_tampered_package_is_rejected_and_signing_with_a_key_at_create_verifies()
    {
        _ctl.Expect(0, "keygen", "--key", "k.pem");
        ReleaseFolder.Write(_ctl, "rel", "1.0.0");
        _ctl.Expect(0, "create", "--sgc", "rel/sgc.json", "-o", "r.pkg", "--key", "k.pem");
        _ctl.Expect(0, "verify", "r.pkg", "--trust", "k.pem.pub");

        var bytes = File.ReadAllBytes(_ctl.PathOf("r.pkg"));
        bytes[bytes.Length / 2] ^= 1;
        File.WriteAllBytes(_ctl.PathOf("bad.pkg"), bytes);
        _ctl.Expect(7, "verify", "bad.pkg", "--trust", "k.pem.pub");
        _ctl.Expect(7, "show", "bad.pkg"); // the structure check finds the damaged body without a key

        File.WriteAllText(_ctl.PathOf("junk.pkg"), "not a package");
        _ctl.Expect(7, "sign", "junk.pkg", "--key", "k.pem");
    }

    [Fact]
    public void Create_rejects_a_description_that_escapes_its_folder()
    {
        ReleaseFolder.Write(_ctl, "rel", "1.0.0");
        File.WriteAllText(_ctl.PathOf("rel/sgc.json"), """
            { "release": "1.0.0", "components": [ { "name": "app.bin", "file": "../secret" } ], "mappings": [] }
            """);
        _ctl.Expect(2, "create", "--sgc", "rel/sgc.json", "-o", "r.pkg");
        Assert.False(File.Exists(_ctl.PathOf("r.pkg")));
        File.WriteAllText(_ctl.PathOf("rel/sgc.json"), "{ \"release\": \"1.0.0\" }");
        _ctl.Expect(2, "create", "--sgc", "rel/sgc.json", "-o", "r.pkg");
    }
}
