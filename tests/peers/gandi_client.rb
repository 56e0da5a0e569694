# The seed document's Ruby client (xmlrpc/client, Debian package ruby-xmlrpc), runnable.
#
# Usage: ruby gandi_client.rb URL [APIKEY]   (APIKEY defaults to the seed's placeholder key)
# Output: see gandi_client.py (the format is shared by every peer in this folder).
require 'xmlrpc/client'

# Ruby's xmlrpc refuses <nil/> ("wrong/unknown XML-RPC type 'nil'") unless ENABLE_NIL_PARSER is
# on; it is a constant, so it is redefined before the first call. <i8> is read without options.
XMLRPC::Config.module_eval do
  remove_const(:ENABLE_NIL_PARSER)
  const_set(:ENABLE_NIL_PARSER, true)
end

url = ARGV.fetch(0)
apikey = ARGV[1] || 'my 24-character API key'

def show(v)
  case v
  when true then 'true'
  when false then 'false'
  when Integer then v.to_s
  when String then "\"#{v}\""
  when nil then 'nil'
  when XMLRPC::DateTime
    format('dateTime:%04d%02d%02dT%02d:%02d:%02d', v.year, v.month, v.day, v.hour, v.min, v.sec)
  else "other:#{v.class}"
  end
end

server = XMLRPC::Client.new2(url)
begin
  version = server.call('version.info', apikey)
  puts "api_version=#{show(version['api_version'])}"
  instances = server.call('paas.list', apikey)
rescue XMLRPC::FaultException => e
  puts "fault=#{e.faultCode} \"#{e.faultString}\""
  exit 2
rescue StandardError => e
  warn "error: #{e.class}: #{e.message}"
  exit 1
end

puts "paas.count=#{instances.length}"
unless instances.empty?
  first = instances[0]
  %w[id name size date_end date_end_commitment need_upgrade].each do |field|
    puts "paas[0].#{field}=#{show(first[field])}"
  end
  puts "paas[0].servers[0].id=#{show(first['servers'][0]['id'])}"
end
