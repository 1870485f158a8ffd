using Autograd.CharLm;

namespace Autograd.Cli;

/// <summary>The one wording of "this text has a character the checkpoint's vocabulary lacks", for every command.</summary>
internal static class UnknownCharacters
{
    /// <summary>
    /// The user error (exit 1) for <paramref name="e"/>: names where the text came from, the character
    /// and its offset, and the checkpoint whose vocabulary lacks it.
    /// </summary>
    /// <param name="source">Where the text came from: a file name, or an option such as <c>--prime</c>.</param>
    /// <param name="e">The vocabulary's error (the character and its offset in UTF-16 code units).</param>
    /// <param name="checkpoint">The checkpoint file the vocabulary came from.</param>
    public static CliError Error(string source, UnknownSymbolException e, string checkpoint)
        => new($"{source}: character {Vocabulary.Describe(e.Symbol)} at offset {e.Offset} is not in the vocabulary of {checkpoint}.");
}
