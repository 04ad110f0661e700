# embed.cmake: IN (a text file) as a C string named NAME, into OUT.
# cmake -DIN=... -DOUT=... -DNAME=... -P embed.cmake (the HTML page's script).
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" body "${body}")
file(WRITE "${OUT}.tmp" "/* generated from ${IN} by cmake/embed.cmake */\nconst char ${NAME}[] = {\n${body}0x00 };\n")
file(RENAME "${OUT}.tmp" "${OUT}")
