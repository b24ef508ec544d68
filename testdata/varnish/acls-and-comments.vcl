vcl 4.1;
import std;
include "backends.vcl"; # through vcl_path

/* block comment with { braces } and "quotes"
   over two lines */
acl purgers {
	"127.0.0.1";		// loopback
	"192.0.2.0"/24;		# the office
	! "192.0.2.66";
	("office.example.net");
	"2001:db8:ffff::/48";
}

sub vcl_recv {
	if (req.method == "PURGE") {
		if (client.ip !~ purgers) {
			return (synth(405, {"Not "allowed" here: }"}));
		}
		return (purge);
	}
	set req.http.X-Note = """a // b # c""";
}
