# The seed document's Perl client, runnable. The seed uses CPAN's XML::RPC, which no reachable
# registry ships (Debian has no package for it); this uses RPC::XML (Debian librpc-xml-perl),
# the other Perl XML-RPC client the project names.
#
# Usage: perl gandi_client.pl URL [APIKEY]   (APIKEY defaults to the seed's placeholder key)
# Output: see gandi_client.py (the format is shared by every peer in this folder).
use strict;
use warnings;
use RPC::XML;
use RPC::XML::Client;

# RPC::XML reads <nil/> and <i8> whatever $ALLOW_NIL says (that flag governs sending undef);
# it is set anyway so the client could send nil too.
$RPC::XML::ALLOW_NIL = 1;

my $url    = $ARGV[0] or die "usage: $0 URL [APIKEY]\n";
my $apikey = $ARGV[1] // 'my 24-character API key';

# send_request returns RPC::XML objects, so the XML-RPC type of each value stays visible.
sub show {
    my ($v) = @_;
    my $type = ref($v) ? $v->type : 'perl scalar';
    return $v->value ? 'true' : 'false' if $type eq 'boolean';
    return $v->value if $type eq 'int' || $type eq 'i4' || $type eq 'i8';
    return '"' . $v->value . '"' if $type eq 'string';
    return 'nil' if $type eq 'nil';
    return 'dateTime:' . $v->value if $type eq 'dateTime.iso8601';
    return "other:$type";
}

sub call {
    my ($client, @args) = @_;
    my $r = $client->send_request(@args);
    if (!ref $r) {
        print STDERR "error: $r\n";
        exit 1;
    }
    if ($r->is_fault) {
        printf "fault=%d \"%s\"\n", $r->code, $r->string;
        exit 2;
    }
    return $r;
}

my $api     = RPC::XML::Client->new($url);
my $version = call($api, 'version.info', $apikey);
print 'api_version=', show($version->{api_version}), "\n";
my $instances = call($api, 'paas.list', $apikey);
print 'paas.count=', scalar(@$instances), "\n";
if (@$instances) {
    my $first = $instances->[0];
    for my $field (qw(id name size date_end date_end_commitment need_upgrade)) {
        print "paas[0].$field=", show($first->{$field}), "\n";
    }
    print 'paas[0].servers[0].id=', show($first->{servers}[0]{id}), "\n";
}
