using System.Diagnostics;
using System.Text;

namespace Autograd.Tests.Cli;

/// <summary>What a CLI process did.</summary>
internal sealed record CliResult(int ExitCode, string StdOut, string StdErr)
{
    public string[] ErrorLines => StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{StdOut}\n--- stderr ---\n{StdErr}";
}

/// <summary>
/// Runs the real <c>autograd</c> command as a separate process: <c>dotnet Autograd.Cli.dll</c>,
/// which the test project's reference to Autograd.Cli copies next to the test assembly.
/// </summary>
internal static class CliRunner
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    public static string CliDll => Path.Combine(AppContext.BaseDirectory, "Autograd.Cli.dll");

    /// <summary>Starts the CLI with stdout and stderr redirected and stdin closed (no prompt can hang it).</summary>
    public static Process Start(string workingDirectory, params string[] args) => Start(workingDirectory, null, args);

    /// <summary>As <see cref="Start(string, string[])"/>, with extra environment variables.</summary>
    public static Process Start(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        // The SDK tells child processes which host it runs on; fall back to the one on PATH.
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";
        var start = new ProcessStartInfo(host)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(CliDll);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["NO_COLOR"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the CLI");
        process.StandardInput.Close();
        return process;
    }

    public static CliResult Run(string workingDirectory, params string[] args) => Run(workingDirectory, null, args);

    /// <summary>Runs the CLI to the end with extra environment variables.</summary>
    public static CliResult Run(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        using var process = Start(workingDirectory, environment, args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"autograd {string.Join(' ', args)} did not finish within {Timeout.TotalSeconds} s (hang).");
        }
        process.WaitForExit(); // drains the redirected streams
        return new CliResult(process.ExitCode, stdout.Result, stderr.Result);
    }
}
