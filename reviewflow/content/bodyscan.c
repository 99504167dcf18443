/* reviewflow.content._bodyscan: a plain Markdown body read into what the checks read, in one
   pass over the body's buffer.

   Every approved text is checked on a cold `check` and on `verify --no-cache`, and nearly every
   body is plain (`#` headings, paragraphs, one-line `-` and `+` items, citation markers and
   `**strong**` of the authors' shape: content/plainmarkdown.py says exactly which). In Python,
   reading one cost ~0.48 M instructions: the body split into lines, the line strings, a string,
   a tuple and a break for every text node, the pieces summed into their starts and joined, and
   `re` run over the text for the markers. Here the lines are read in the body's buffer, the text
   nodes kept as offsets into it, the text written once, and the markers found as `MARKER` finds
   them; a string is made only for the text and each marker's inside.

   `read_plain(body, body_line)` gives what `parse_body` reads from a plain body (the text, the
   starts of its text nodes and their places in the file, the headings' starts, the markers'
   insides, the blocks' starts), or None where the body is not plain, exactly where
   plainmarkdown's `read_plain_body` declines. Its Python reference is
   reviewflow/content/markdown.py's `_python_read_plain` (`read_plain_body`, then the walk's
   `finish`), which runs instead where this module is not built or is older than this file
   (reviewflow/compiled.py); tests/test_bodyscan.py holds the two equal. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

/* --- Characters ----------------------------------------------------------------------------- */

/* What a character below 256 is to the reader, bits of class_below_256. */
#define UNSAFE 1      /* may start inline markup or change a line: plainmarkdown._UNSAFE_ASCII, and
                         the C1 controls and no-break space of _UNSAFE_NON_ASCII */
#define LOOK_CLOSER 2 /* a line that starts with it may start another block (_LOOK_CLOSER) */
#define LINE_END 4    /* "\n" */
#define WATCHED 8     /* "]" (a link if "(", "[" or ":" follows) and "*" (strong emphasis) */
#define STOP (UNSAFE | LINE_END | WATCHED) /* where the line scan stops */
static unsigned char class_below_256[256];

/* The class of any character: beyond 256, the white space to CommonMark or to Python and the
   surrogates of _UNSAFE_NON_ASCII are unsafe. */
static inline unsigned char
class_of(Py_UCS4 character)
{
    if (character < 256) {
        return class_below_256[character];
    }
    return character == 0x1680 || (character >= 0x2000 && character <= 0x200A) || character == 0x2028 ||
                   character == 0x2029 || character == 0x202F || character == 0x205F || character == 0x3000 ||
                   (character >= 0xD800 && character <= 0xDFFF)
               ? UNSAFE
               : 0;
}

static inline int
is_ascii_digit(Py_UCS4 character)
{
    return character >= '0' && character <= '9';
}

static inline int
is_ascii_alnum(Py_UCS4 character)
{
    return is_ascii_digit(character) || ((character | 0x20) >= 'a' && (character | 0x20) <= 'z');
}

/* The functions below that read characters take the buffer's KIND (1, 2 or 4 bytes a character)
   as an argument and are always inlined into the one function per kind that calls them
   (read_kind): PyUnicode_READ's choice of width is then made once, not at every character. */
#define READ(index) PyUnicode_READ(kind, data, (index))

/* Whether the text from FROM to END starts an ordered list's item: _ORDERED,
   [0-9]{1,9}[.)](?: |$). */
static Py_ALWAYS_INLINE inline int
starts_ordered_item(const void *data, int kind, Py_ssize_t from, Py_ssize_t end)
{
    Py_ssize_t position = from;
    while (position < end && is_ascii_digit(READ(position))) {
        position++;
    }
    Py_ssize_t digits = position - from;
    if (digits < 1 || digits > 9 || position == end) {
        return 0;
    }
    Py_UCS4 mark = READ(position);
    return (mark == '.' || mark == ')') && (position + 1 == end || READ(position + 1) == ' ');
}

/* Where the strong emphasis _STRONG matches at START ends, on a line that ends at END, and the
   bounds of its inside (*INSIDE_START, *INSIDE_END); -1 where it does not match. _STRONG is
   (?<![^ ])\*\*([A-Za-z0-9](?:[^*]*[A-Za-z0-9.])?)\*\*(?![^ ]): its inside holds no "*", so it
   ends at the first "*" after its first character, and the match is there or nowhere. LINE_START:
   where the line starts (the lookbehind sees nothing before it). */
static Py_ALWAYS_INLINE inline Py_ssize_t
strong_at(const void *data, int kind, Py_ssize_t line_start, Py_ssize_t start, Py_ssize_t end,
          Py_ssize_t *inside_start, Py_ssize_t *inside_end)
{
    if (start > line_start && READ(start - 1) != ' ') {
        return -1;
    }
    Py_ssize_t first = start + 2;
    if (first >= end || READ(start) != '*' || READ(start + 1) != '*' || !is_ascii_alnum(READ(first))) {
        return -1;
    }
    Py_ssize_t close = first + 1;
    while (close < end && READ(close) != '*') {
        close++;
    }
    if (close + 1 >= end || READ(close + 1) != '*') {
        return -1;
    }
    if (close > first + 1) {
        Py_UCS4 last = READ(close - 1);
        if (!is_ascii_alnum(last) && last != '.') {
            return -1;
        }
    }
    if (close + 2 < end && READ(close + 2) != ' ') {
        return -1;
    }
    *inside_start = first;
    *inside_end = close;
    return close + 2;
}

/* Whether the text from FROM to its line's END, at the start of a block, starts a paragraph (and
   no other block): plainmarkdown._opens_paragraph. */
static Py_ALWAYS_INLINE inline int
opens_paragraph(const void *data, int kind, Py_ssize_t line_start, Py_ssize_t from, Py_ssize_t end)
{
    Py_UCS4 first = READ(from);
    if (!(class_of(first) & LOOK_CLOSER)) {
        return 1;
    }
    if (is_ascii_digit(first)) {
        return !starts_ordered_item(data, kind, from, end);
    }
    Py_ssize_t inside_start, inside_end;
    return first == '*' && strong_at(data, kind, line_start, from, end, &inside_start, &inside_end) >= 0;
}

/* --- The text nodes ------------------------------------------------------------------------- */

/* What comes before a text node in the prose: nothing inside a line, a space between the lines of
   a paragraph, a line break between blocks. */
enum { NOTHING, SPACE, LINE_BREAK };

/* One text node: its text is the body's characters from START to END. */
typedef struct {
    Py_ssize_t start;
    Py_ssize_t end;
    Py_ssize_t line;   /* its line in the body, from 0 */
    Py_ssize_t column; /* where it starts in its line, from 0 */
    Py_ssize_t offset; /* where it starts in the text (set when the text is written) */
    unsigned char before;
    unsigned char heading; /* the first node of a heading */
} Node;

/* The nodes found. A body's fit in the caller's stack; a longer one moves them to the heap. */
#define STACK_NODES 256

typedef struct {
    Node *nodes;
    Py_ssize_t count;
    Py_ssize_t capacity;
    Node *stack;
} Nodes;

static int
add_node(Nodes *nodes, Node node)
{
    if (nodes->count == nodes->capacity) {
        if (nodes->capacity > PY_SSIZE_T_MAX / 2 / (Py_ssize_t)sizeof(Node)) {
            PyErr_NoMemory();
            return -1;
        }
        Py_ssize_t capacity = nodes->capacity * 2;
        Node *grown;
        if (nodes->nodes == nodes->stack) {
            grown = PyMem_Malloc((size_t)capacity * sizeof(Node));
            if (grown != NULL) {
                memcpy(grown, nodes->nodes, (size_t)nodes->count * sizeof(Node));
            }
        }
        else {
            grown = PyMem_Realloc(nodes->nodes, (size_t)capacity * sizeof(Node));
        }
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        nodes->nodes = grown;
        nodes->capacity = capacity;
    }
    nodes->nodes[nodes->count++] = node;
    return 0;
}

/* What a line starts (plainmarkdown's line kinds). */
enum { BLANK, PARAGRAPH, HEADING, ITEM, OTHER };

/* The kind of the line from START to END (not blank, no space at its end), and where its text
   starts (*TEXT_START): plainmarkdown.read_plain_body's tests and _line_kind. */
static Py_ALWAYS_INLINE inline int
line_kind(const void *data, int kind, Py_ssize_t start, Py_ssize_t end, Py_ssize_t *text_start)
{
    *text_start = start;
    Py_UCS4 first = READ(start);
    if (!(class_of(first) & LOOK_CLOSER)) {
        return PARAGRAPH; /* most lines */
    }
    if (opens_paragraph(data, kind, start, start, end)) {
        return PARAGRAPH;
    }
    if (first == '#') {
        /* #{1,6} (?=[^ ]), and no closing sequence */
        Py_ssize_t position = start;
        while (position < end && READ(position) == '#') {
            position++;
        }
        Py_ssize_t level = position - start;
        if (level > 6 || position + 1 >= end || READ(position) != ' ' || READ(position + 1) == ' ' ||
            READ(end - 1) == '#') {
            return OTHER;
        }
        *text_start = position + 1;
        return HEADING;
    }
    if ((first == '-' || first == '+') && start + 2 < end && READ(start + 1) == ' ' &&
        opens_paragraph(data, kind, start, start + 2, end)) {
        *text_start = start + 2;
        return ITEM;
    }
    return OTHER; /* another kind of block, or of block inside an item */
}

/* Adds the text nodes of a line (from LINE_START to END, its text from TEXT_START) that holds a
   "*": the text around each strong emphasis and the text inside it, the first with BEFORE and
   the others with nothing before them. 1; 0 when the line has any other "*"; -1 on an error.
   plainmarkdown._strong_nodes. */
static Py_ALWAYS_INLINE inline int
add_strong_nodes(const void *data, int kind, Nodes *nodes, Py_ssize_t line, Py_ssize_t line_start,
                 Py_ssize_t text_start, Py_ssize_t end, unsigned char before, unsigned char heading)
{
    Py_ssize_t stars = 0;
    for (Py_ssize_t position = text_start; position < end; position++) {
        stars += READ(position) == '*';
    }
    /* The spans of text: before the first emphasis, inside it, between it and the next, ... */
    Py_ssize_t text_from = text_start, matched = 0;
    int first = 1;
    for (Py_ssize_t position = text_start;;) {
        while (position < end && READ(position) != '*') {
            position++;
        }
        Py_ssize_t inside_start = 0, inside_end = 0;
        Py_ssize_t match_end = position < end
                                   ? strong_at(data, kind, line_start, position, end, &inside_start, &inside_end)
                                   : -1;
        if (position < end && match_end < 0) {
            position++;
            continue;
        }
        /* the span before the match (or the line's last), then the match's inside */
        Py_ssize_t spans[2][2] = {{text_from, position}, {inside_start, inside_end}};
        for (int span = 0; span < (match_end < 0 ? 1 : 2); span++) {
            if (spans[span][0] < spans[span][1]) {
                Node node = {spans[span][0], spans[span][1], line, spans[span][0] - line_start, 0,
                             first ? before : NOTHING, first ? heading : 0};
                if (add_node(nodes, node) < 0) {
                    return -1;
                }
                first = 0;
            }
        }
        if (match_end < 0) {
            break;
        }
        matched++;
        text_from = position = match_end;
    }
    return stars == 4 * matched; /* every "*" in one of the matches (each holds four) */
}

/* Where the line that starts at START ends, and whether it holds a "*" (*STAR); -1 where it holds a
   character that can start inline markup or change a line, or a bracket that may be a link: then
   the body is not plain (plainmarkdown._safe, made line by line). */
static Py_ALWAYS_INLINE inline Py_ssize_t
line_end(const void *data, int kind, Py_ssize_t length, Py_ssize_t start, int *star)
{
    for (Py_ssize_t end = start; end < length; end++) {
        Py_UCS4 character = READ(end);
        unsigned char class = class_of(character);
        if (!(class & STOP)) {
            continue;
        }
        if (class & UNSAFE) {
            return -1;
        }
        if (class & LINE_END) {
            return end;
        }
        if (character == '*') {
            *star = 1;
        }
        else if (end + 1 < length) { /* "]" */
            Py_UCS4 next = READ(end + 1);
            if (next == '(' || next == '[' || next == ':') {
                return -1; /* an inline link, a reference link, a link definition */
            }
        }
    }
    return length;
}

/* The characters line_end stops at in an ASCII body (and NUL, which ends its buffer). */
static const char ascii_stops[] = "`\\_&<>~|\t\r\x0b\x0c\n]*";

/* line_end for an ASCII body, whose buffer ends with a NUL (PyUnicode_AsUTF8AndSize's): the
   characters to stop at are found by strcspn, many at a time, rather than one by one. */
static inline Py_ssize_t
ascii_line_end(const char *data, Py_ssize_t length, Py_ssize_t start, int *star)
{
    for (Py_ssize_t end = start;; end++) {
        end += (Py_ssize_t)strcspn(data + end, ascii_stops);
        if (end >= length) {
            return length;
        }
        char character = data[end];
        if (character == '\n') {
            return end;
        }
        if (character == '*') {
            *star = 1;
        }
        else if (character == ']') {
            char next = data[end + 1];
            if (next == '(' || next == '[' || next == ':') {
                return -1;
            }
        }
        else {
            return -1; /* unsafe, NUL included */
        }
    }
}

/* Reads the body's lines into NODES: 1 if the body is plain, 0 if not, -1 on an error.
   plainmarkdown.read_plain_body, its _safe test and its test of trailing spaces made on the way
   through each line (each only declines the body, so their order does not matter). ASCII: the
   body is ASCII (KIND 1), its buffer ending with a NUL. */
static Py_ALWAYS_INLINE inline int
read_kind(const void *data, int kind, int ascii, Py_ssize_t length, Nodes *nodes)
{
    int previous = BLANK;
    Py_ssize_t line = 0, start = 0;
    for (;; line++) {
        int star = 0;
        Py_ssize_t end = ascii ? ascii_line_end(data, length, start, &star)
                               : line_end(data, kind, length, start, &star);
        if (end < 0) {
            return 0;
        }
        if (end == start) {
            previous = BLANK;
        }
        else {
            if (READ(end - 1) == ' ') {
                return 0; /* a space at a line's end: a hard break, or stripped */
            }
            Py_ssize_t text_start;
            int line_is = line_kind(data, kind, start, end, &text_start);
            if (line_is == OTHER || (line_is == PARAGRAPH && previous == ITEM)) {
                return 0; /* another block, or a lazy continuation of a list item */
            }
            unsigned char before = line_is == PARAGRAPH && previous == PARAGRAPH ? SPACE : LINE_BREAK;
            unsigned char heading = line_is == HEADING;
            previous = line_is;
            if (star) {
                int added = add_strong_nodes(data, kind, nodes, line, start, text_start, end, before, heading);
                if (added <= 0) {
                    return added;
                }
            }
            else {
                Node node = {text_start, end, line, text_start - start, 0, before, heading};
                if (add_node(nodes, node) < 0) {
                    return -1;
                }
            }
        }
        if (end == length) {
            return 1;
        }
        start = end + 1;
    }
}

/* --- The text, its markers, and the lists -------------------------------------------------- */

/* The prose's text: the nodes' texts with what comes before each (nothing before the first).
   Sets each node's offset. */
static PyObject *
write_text(PyObject *body, Nodes *nodes)
{
    const void *data = PyUnicode_DATA(body);
    int kind = PyUnicode_KIND(body);
    Py_ssize_t length = 0;
    Py_UCS4 widest = 127;
    for (Py_ssize_t index = 0; index < nodes->count; index++) {
        Node *node = &nodes->nodes[index];
        length += (index > 0 && node->before != NOTHING) + (node->end - node->start);
        if (!PyUnicode_IS_ASCII(body)) {
            for (Py_ssize_t position = node->start; position < node->end; position++) {
                Py_UCS4 character = READ(position);
                widest = character > widest ? character : widest;
            }
        }
    }
    PyObject *text = PyUnicode_New(length, widest);
    if (text == NULL) {
        return NULL;
    }
    void *into = PyUnicode_DATA(text);
    int into_kind = PyUnicode_KIND(text);
    Py_ssize_t offset = 0;
    for (Py_ssize_t index = 0; index < nodes->count; index++) {
        Node *node = &nodes->nodes[index];
        if (index > 0 && node->before != NOTHING) {
            PyUnicode_WRITE(into_kind, into, offset++, node->before == SPACE ? ' ' : '\n');
        }
        node->offset = offset;
        if (into_kind == kind) {
            memcpy((char *)into + (size_t)offset * (size_t)kind, (const char *)data + (size_t)node->start * (size_t)kind,
                   (size_t)(node->end - node->start) * (size_t)kind);
            offset += node->end - node->start;
        }
        else {
            for (Py_ssize_t position = node->start; position < node->end; position++) {
                PyUnicode_WRITE(into_kind, into, offset++, READ(position));
            }
        }
    }
    return text;
}

/* Where the citation marker that starts with the "[" at OPEN ends (its "]"), or -1 where none
   does: citations.MARKER, \[(\d[^\[\]\nA-Za-z]{0,39})\]. Its inside holds no "]", so the first
   "]" after the digit is the only one that can close it. */
static Py_ssize_t
marker_end(const void *data, int kind, Py_ssize_t length, Py_ssize_t open)
{
    Py_ssize_t position = open + 1;
    if (position >= length) {
        return -1;
    }
    Py_UCS4 digit = READ(position);
    if (!is_ascii_digit(digit) && (digit < 128 || !Py_UNICODE_ISDECIMAL(digit))) {
        return -1;
    }
    Py_ssize_t last = position + 40; /* the digit, 39 more, then the "]" */
    for (position++; position < length && position <= last; position++) {
        Py_UCS4 character = READ(position);
        if (character == ']') {
            return position;
        }
        if (character == '[' || character == '\n' || (character < 128 && Py_ISALPHA(character))) {
            return -1;
        }
    }
    return -1;
}

/* The next "[" at or after FROM in the text, or -1. */
static inline Py_ssize_t
next_open(const void *data, int kind, Py_ssize_t length, Py_ssize_t from)
{
    if (kind == PyUnicode_1BYTE_KIND) {
        const char *found = from < length ? memchr((const char *)data + from, '[', (size_t)(length - from)) : NULL;
        return found == NULL ? -1 : found - (const char *)data;
    }
    for (; from < length; from++) {
        if (READ(from) == '[') {
            return from;
        }
    }
    return -1;
}

/* The insides of the text's markers, in order: MARKER.findall(text). */
static PyObject *
marker_insides(PyObject *text)
{
    const void *data = PyUnicode_DATA(text);
    int kind = PyUnicode_KIND(text);
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    PyObject *insides = PyList_New(0);
    if (insides == NULL) {
        return NULL;
    }
    for (Py_ssize_t open = next_open(data, kind, length, 0); open >= 0;) {
        Py_ssize_t close = marker_end(data, kind, length, open);
        if (close < 0) {
            open = next_open(data, kind, length, open + 1);
            continue;
        }
        PyObject *inside = PyUnicode_Substring(text, open + 1, close);
        if (inside == NULL || PyList_Append(insides, inside) < 0) {
            Py_XDECREF(inside);
            Py_DECREF(insides);
            return NULL;
        }
        Py_DECREF(inside);
        open = next_open(data, kind, length, close + 1);
    }
    return insides;
}

/* Whether a node (its text in the body's buffer DATA) has a "[" with no "]" after it: a marker
   may then go on into the next node (markdown._UNCLOSED over the nodes that hold a "["). */
static int
has_unclosed_bracket(const void *data, int kind, const Node *node)
{
    for (Py_ssize_t position = node->end - 1; position >= node->start; position--) {
        Py_UCS4 character = READ(position);
        if (character == ']') {
            return 0;
        }
        if (character == '[') {
            return 1;
        }
    }
    return 0;
}

#define NOT_A_MARKER 0xFF3B /* markdown.NOT_A_MARKER, "［" */

/* TEXT (whose reference it takes) with the "[" of every marker that is not wholly inside one
   node made NOT_A_MARKER, as markdown._Walk.finish does: the page links none of those. The
   markers are found in the text as it was, as finish's finditer finds them. */
static PyObject *
unmark_markers_across_nodes(PyObject *text, const Nodes *nodes)
{
    const void *data = PyUnicode_DATA(text);
    int kind = PyUnicode_KIND(text);
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    PyObject *unmarked = NULL;
    Py_ssize_t node = 0;
    for (Py_ssize_t open = next_open(data, kind, length, 0); open >= 0;) {
        Py_ssize_t close = marker_end(data, kind, length, open);
        if (close < 0) {
            open = next_open(data, kind, length, open + 1);
            continue;
        }
        while (node + 1 < nodes->count && nodes->nodes[node + 1].offset <= open) {
            node++;
        }
        const Node *holder = &nodes->nodes[node];
        if (open < holder->offset || close >= holder->offset + (holder->end - holder->start)) {
            if (unmarked == NULL) {
                Py_UCS4 widest = PyUnicode_MAX_CHAR_VALUE(text);
                unmarked = PyUnicode_New(length, widest > NOT_A_MARKER ? widest : NOT_A_MARKER);
                if (unmarked == NULL || PyUnicode_CopyCharacters(unmarked, 0, text, 0, length) < 0) {
                    Py_XDECREF(unmarked);
                    Py_DECREF(text);
                    return NULL;
                }
            }
            PyUnicode_WRITE(PyUnicode_KIND(unmarked), PyUnicode_DATA(unmarked), open, NOT_A_MARKER);
        }
        open = next_open(data, kind, length, close + 1);
    }
    if (unmarked == NULL) {
        return text;
    }
    Py_DECREF(text);
    return unmarked;
}

/* The starts of the nodes, their places, the headings' starts and the blocks' starts (each node
   after the first that starts a block), as lists: 0, or -1 with an exception set. */
static int
node_lists(const Nodes *nodes, Py_ssize_t body_line, PyObject **starts, PyObject **places, PyObject **headings,
           PyObject **block_starts)
{
    *starts = PyList_New(nodes->count);
    *places = PyList_New(nodes->count);
    *headings = PyList_New(0);
    *block_starts = PyList_New(0);
    if (*starts == NULL || *places == NULL || *headings == NULL || *block_starts == NULL) {
        return -1;
    }
    for (Py_ssize_t index = 0; index < nodes->count; index++) {
        const Node *node = &nodes->nodes[index];
        PyObject *start = PyLong_FromSsize_t(node->offset);
        if (start == NULL) {
            return -1;
        }
        PyList_SET_ITEM(*starts, index, start);
        PyObject *place = PyTuple_New(2);
        if (place == NULL) {
            return -1;
        }
        PyList_SET_ITEM(*places, index, place);
        PyObject *line = PyLong_FromSsize_t(node->line + body_line);
        if (line == NULL) {
            return -1;
        }
        PyTuple_SET_ITEM(place, 0, line);
        PyObject *column = PyLong_FromSsize_t(node->column);
        if (column == NULL) {
            return -1;
        }
        PyTuple_SET_ITEM(place, 1, column);
        if (node->heading && PyList_Append(*headings, start) < 0) {
            return -1;
        }
        if (index > 0 && node->before == LINE_BREAK && PyList_Append(*block_starts, start) < 0) {
            return -1;
        }
    }
    return 0;
}

/* What parse_body reads from the plain body whose NODES were found: (text, starts, places,
   headings, marker insides, block starts). */
static PyObject *
read_nodes(PyObject *body, Nodes *nodes, Py_ssize_t body_line)
{
    if (nodes->count == 0) {
        /* No text at all: no blocks, and so no blocks' starts known (None). */
        return Py_BuildValue("(s[][][][]O)", "", Py_None);
    }
    PyObject *text = write_text(body, nodes);
    if (text == NULL) {
        return NULL;
    }
    if (next_open(PyUnicode_DATA(text), PyUnicode_KIND(text), PyUnicode_GET_LENGTH(text), 0) >= 0) {
        for (Py_ssize_t index = 0; index < nodes->count; index++) {
            if (has_unclosed_bracket(PyUnicode_DATA(body), PyUnicode_KIND(body), &nodes->nodes[index])) {
                text = unmark_markers_across_nodes(text, nodes);
                if (text == NULL) {
                    return NULL;
                }
                break;
            }
        }
    }
    PyObject *insides = marker_insides(text);
    PyObject *starts = NULL, *places = NULL, *headings = NULL, *block_starts = NULL, *read = NULL;
    if (insides != NULL && node_lists(nodes, body_line, &starts, &places, &headings, &block_starts) == 0) {
        read = PyTuple_Pack(6, text, starts, places, headings, insides, block_starts);
    }
    Py_DECREF(text);
    Py_XDECREF(insides);
    Py_XDECREF(starts);
    Py_XDECREF(places);
    Py_XDECREF(headings);
    Py_XDECREF(block_starts);
    return read;
}

PyDoc_STRVAR(read_plain_doc,
             "read_plain(body, body_line, /)\n--\n\n"
             "What parse_body reads from BODY, whose first line is line BODY_LINE of its file, "
             "if BODY is plain (content/plainmarkdown.py): (text, starts, places, headings, "
             "marker insides, block starts); None if it is not. markdown.py's "
             "_python_read_plain is the reference.");

static PyObject *
read_plain(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "read_plain() takes 2 arguments (%zd given)", nargs);
        return NULL;
    }
    PyObject *body = args[0];
    if (!PyUnicode_Check(body)) {
        PyErr_Format(PyExc_TypeError, "read_plain() takes a str, not %.200s", Py_TYPE(body)->tp_name);
        return NULL;
    }
    Py_ssize_t body_line = PyLong_AsSsize_t(args[1]);
    if (body_line == -1 && PyErr_Occurred()) {
        return NULL;
    }
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(body) < 0) {
        return NULL;
    }
#endif
    Node stack[STACK_NODES];
    Nodes nodes = {stack, 0, STACK_NODES, stack};
    const void *data = PyUnicode_DATA(body);
    Py_ssize_t length = PyUnicode_GET_LENGTH(body);
    int plain;
    if (PyUnicode_IS_ASCII(body)) {
        const char *ascii = PyUnicode_AsUTF8AndSize(body, &length); /* its buffer, NUL-terminated */
        if (ascii == NULL) {
            return NULL;
        }
        plain = read_kind(ascii, PyUnicode_1BYTE_KIND, 1, length, &nodes);
    }
    else {
        switch (PyUnicode_KIND(body)) {
        case PyUnicode_1BYTE_KIND:
            plain = read_kind(data, PyUnicode_1BYTE_KIND, 0, length, &nodes);
            break;
        case PyUnicode_2BYTE_KIND:
            plain = read_kind(data, PyUnicode_2BYTE_KIND, 0, length, &nodes);
            break;
        default:
            plain = read_kind(data, PyUnicode_4BYTE_KIND, 0, length, &nodes);
            break;
        }
    }
    PyObject *read = plain < 0 ? NULL : plain == 0 ? Py_NewRef(Py_None) : read_nodes(body, &nodes, body_line);
    if (nodes.nodes != stack) {
        PyMem_Free(nodes.nodes);
    }
    return read;
}

static PyMethodDef bodyscan_methods[] = {
    {"read_plain", (PyCFunction)(void (*)(void))read_plain, METH_FASTCALL, read_plain_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef bodyscan_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "reviewflow.content._bodyscan",
    .m_doc = "A plain Markdown body read into what the checks read, in one pass over its buffer.",
    .m_size = 0,
    .m_methods = bodyscan_methods,
};

PyMODINIT_FUNC
PyInit__bodyscan(void)
{
    for (const char *unsafe = "`\\_&<>~|\t\r\x0b\x0c"; *unsafe; unsafe++) {
        class_below_256[(unsigned char)*unsafe] |= UNSAFE;
    }
    class_below_256[0] |= UNSAFE; /* NUL */
    for (int character = 0x80; character <= 0xA0; character++) {
        class_below_256[character] |= UNSAFE;
    }
    for (const char *closer = " #>-+*=_<`~|0123456789"; *closer; closer++) {
        class_below_256[(unsigned char)*closer] |= LOOK_CLOSER;
    }
    class_below_256['\n'] |= LINE_END;
    class_below_256[']'] |= WATCHED;
    class_below_256['*'] |= WATCHED;
    return PyModuleDef_Init(&bodyscan_module);
}
